package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/store"
	"github.com/deb2fs/deb2fs/update"
)

func newUpdate() *cobra.Command {
	var (
		storeDir, indexRef, tag   string
		only, request             []string
		maxLayers                 int
		sde                       int64
		asJSON, quiet, recommends bool
	)
	cmd := &cobra.Command{
		Use:   "update [--store DIR] [--index latest|DATE|REF] [--only PKG...] [--tag TAG] IMAGE",
		Short: "Recompose an image against a newer mirror index and report what changed",
		Long: `Compose IMAGE's request again over the mirror index (default: the latest),
so the result is byte for byte what deb2fs compose of the same request
against that index gives: unchanged package layers are the same blobs, new
versions bring their layers, the closure may gain or lose packages, the
configure layer is made again. The image (a tag in the store, or
oci:DIR[:TAG]) is replaced under its tag unless --tag names another.

The request is the one the image records, else --request, else inferred:
the image's packages nothing else in it depends on, outside the essential
set — checked to resolve to exactly the image's packages over the index
it was composed from (found among the store's dated indexes).

--only PKG... updates just those packages (and what their new versions
need): every other package keeps its version.

Prints the packages added, removed and changed, the new layers and the
bytes a push over the old image would upload.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(storeDir)
			if err != nil {
				return err
			}
			ref, err := indexRefOf(st, indexRef)
			if err != nil {
				return err
			}
			idx, err := index.Load(st, ref)
			if err != nil {
				return fmt.Errorf("%w (run deb2fs mirror first)", err)
			}
			opts := update.Options{
				Store: st, Ref: args[0], Index: idx, Only: only, Tag: tag,
				MaxLayers: maxLayers, SourceDateEpoch: sde,
				Older: func(yield func(*index.Index) bool) {
					refs, err := index.DatedRefs(st)
					if err != nil {
						return
					}
					for _, r := range slices.Backward(refs) {
						if r == ref {
							continue
						}
						ix, err := index.Load(st, r)
						if err != nil {
							continue
						}
						if !yield(ix) {
							return
						}
					}
				},
			}
			if len(request) > 0 {
				opts.Request = &imagespec.RecordedRequest{Install: request, Recommends: recommends}
			}
			opts.Recommends = recommends
			if !quiet {
				opts.Logf = func(format string, a ...any) {
					fmt.Fprintf(cmd.ErrOrStderr(), "update: "+format+"\n", a...)
				}
			}
			res, err := update.Image(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Old, New    string
					Request     imagespec.RecordedRequest
					RequestFrom string
					Diff        *inspect.Diff
					Seconds     float64
				}{res.Old.Digest.String(), res.New.Digest.String(), res.Request, res.RequestFrom, res.Diff, res.Duration.Seconds()})
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "request (%s): %s\n", res.RequestFrom, strings.Join(res.Request.Install, " "))
			printDiff(w, res.Diff)
			state := "updated"
			if res.Old.Digest == res.New.Digest {
				state = "up to date"
			}
			fmt.Fprintf(w, "%s: %s -> %s (%s, %s)\n", state, res.Old.Digest, res.New.Digest, res.Composed.Ref, res.Duration.Round(1e6))
			return nil
		},
	}
	storeFlag(cmd, &storeDir)
	f := cmd.Flags()
	f.StringVar(&indexRef, "index", "latest", "mirror index to update to: latest, a date (YYYYMMDD[THHMMSSZ], the newest dated index it starts), a ref in the store or sha256:DIGEST")
	f.StringSliceVar(&only, "only", nil, "update only these packages (comma separated or repeated)")
	f.StringSliceVar(&request, "request", nil, "the image's request, when it records none and the inferred one is wrong")
	f.StringVar(&tag, "tag", "", "tag of the updated image (default: the image's own, replaced)")
	f.IntVar(&maxLayers, "max-layers", compose.DefaultMaxLayers, "layer budget, when the image records none")
	f.Int64Var(&sde, "source-date-epoch", 0, "the image's time, when the image records none (default: the newest file time in its packages)")
	f.BoolVar(&recommends, "install-recommends", false, "follow Recommends, when the image records no request (as compose --install-recommends did)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the result")
	return cmd
}

// indexRefOf maps --index to a ref in the store: latest, a date or date
// prefix (the newest dated index whose date starts with it), or a ref or
// digest as it is.
func indexRefOf(st *store.Store, s string) (string, error) {
	switch {
	case s == "" || s == "latest":
		return index.LatestRef, nil
	case strings.HasPrefix(s, "sha256:"), strings.HasPrefix(s, index.DatedRefPrefix):
		return s, nil
	}
	refs, err := index.DatedRefs(st)
	if err != nil {
		return "", err
	}
	date := strings.ReplaceAll(s, "-", "")
	for _, r := range slices.Backward(refs) {
		if strings.HasPrefix(strings.TrimPrefix(r, index.DatedRefPrefix), date) {
			return r, nil
		}
	}
	return "", fmt.Errorf("--index %s: no dated mirror index of that date in %s (have %d)", s, st.Dir(), len(refs))
}
