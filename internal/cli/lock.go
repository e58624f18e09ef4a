package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/imagefile"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/lockfile"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

func newLock() *cobra.Command {
	var storeDir, indexRef, definition, output string
	cmd := &cobra.Command{
		Use:   "lock -f image.yaml [--store DIR] [--index REF] [-o FILE]",
		Short: "Write the exact package set an image definition resolves to",
		Long: `Resolve an image definition's packages (and local .debs) over the
mirror index as compose would, and write its lock file (default: the
definition's name with .lock.json): each package's name, version,
architecture, .deb SHA256 and layer digest, and the index's digest.
deb2fs compose -f image.yaml --locked then composes exactly that set.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if definition == "" {
				return fmt.Errorf("lock: name the image definition with -f")
			}
			def, err := imagefile.Load(definition)
			if err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			if repo, err := registryStore(storeDir); err != nil {
				return fmt.Errorf("lock: %w", err)
			} else if repo != "" {
				return fmt.Errorf("lock: --store %s: lock reads a local store (mirror a registry's index into one with deb2fs compose --work first)", storeDir)
			}
			st, err := openStore(storeDir)
			if err != nil {
				return err
			}
			ref := indexRef
			if ref == "" {
				ref = index.LatestRef
			}
			d, err := st.Resolve(ref)
			if err != nil {
				return fmt.Errorf("lock: mirror index %s: %w (run deb2fs mirror first)", ref, err)
			}
			idx, err := index.Load(st, d.Digest.String())
			if err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			es, req, err := def.Resolve(cmd.Context(), st, idx)
			if err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			l, err := lockfile.New(req, def.Debs, d.Digest, es)
			if err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			if output == "" {
				output = lockfile.PathFor(definition)
			}
			if err := l.Write(output); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\t%d packages\tindex %s\n", output, len(l.Packages), d.Digest)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&definition, "file", "f", "", "the image definition (YAML, docs/imagefile.md)")
	f.StringVar(&storeDir, "store", "", "layer store (default: the per-user store)")
	f.StringVar(&indexRef, "index", "", "mirror index to resolve over: a ref in the store (default "+index.LatestRef+") or sha256:DIGEST")
	f.StringVarP(&output, "output", "o", "", "the lock file (default: the definition's name with .lock.json)")
	return cmd
}

// definitionSet is the package set of an image definition and the
// request it records: resolved over idx, or, locked, the set of its lock
// file looked up in the lock's own index (when the store has it) and idx.
func definitionSet(ctx context.Context, st *store.Store, idx *index.Index, def *imagefile.Definition, locked bool, lockPath string, remote bool) ([]index.Entry, resolve.Request, error) {
	if !locked {
		return def.Resolve(ctx, st, idx)
	}
	if lockPath == "" {
		lockPath = lockfile.PathFor(def.Path)
	}
	l, err := lockfile.Read(lockPath)
	if err != nil {
		return nil, resolve.Request{}, err
	}
	var lockedIdx *index.Index
	if !remote {
		lockedIdx, _ = index.Load(st, l.Index) // gone from the store: idx may still hold the set
	}
	return def.ResolveLocked(ctx, st, l, lockedIdx, idx)
}
