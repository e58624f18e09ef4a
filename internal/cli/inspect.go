package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/store"
)

func newInspect() *cobra.Command {
	var (
		storeDir, sbom, output string
		asJSON                 bool
	)
	cmd := &cobra.Command{
		Use:   "inspect [--store DIR] [--json | --sbom spdx-json [-o FILE]] IMAGE",
		Short: "List an image's Debian packages without pulling its layers",
		Long: `List the packages of an image — name, version, architecture, source
package and the layer holding each (for a group layer, every member) — read
from the image's manifest, config and annotations only: no layer is pulled.

IMAGE is a tag or sha256:DIGEST in the store, oci:DIR[:TAG] (an OCI image
layout), or a registry reference HOST[:PORT]/REPO[:TAG|@DIGEST] (also
docker://...; plain HTTP for 127.0.0.1 and localhost). What the annotations
leave out (a group member's architecture and source) is completed from the
store's package images when the store exists.

--sbom spdx-json writes an SPDX 2.3 JSON document instead: the image and
its packages with purls (pkg:deb/debian/NAME@VERSION?arch=ARCH).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if sbom != "" && sbom != "spdx-json" {
				return fmt.Errorf("--sbom %q: the only format is spdx-json", sbom)
			}
			o, err := newOpener(storeDir)
			if err != nil {
				return err
			}
			im, err := o.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			for _, w := range im.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "deb2fs: warning:", w)
			}
			out := cmd.OutOrStdout()
			if output != "" {
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			}
			switch {
			case sbom != "":
				err = inspect.WriteSPDX(out, im, inspect.SBOMOptions{Tool: "deb2fs-" + version()})
			case asJSON:
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				err = enc.Encode(im)
			default:
				err = printImage(out, im)
			}
			if err != nil {
				return err
			}
			if f, ok := out.(*os.File); ok && output != "" {
				return f.Close()
			}
			return nil
		},
	}
	storeFlag(cmd, &storeDir)
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the image and its packages as JSON")
	f.StringVar(&sbom, "sbom", "", "print an SBOM instead; format: spdx-json (SPDX 2.3)")
	f.StringVarP(&output, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}

// printImage prints an image's identity, its firstboot hooks and a table
// of its packages.
func printImage(w io.Writer, im *inspect.Image) error {
	fmt.Fprintf(w, "image\t%s\ndigest\t%s\nplatform\t%s/%s\ncreated\t%s\nlayers\t%d\npackages\t%d\n",
		im.Ref, im.Digest, im.OS, im.Architecture, im.Created.UTC().Format("2006-01-02T15:04:05Z"), len(im.Layers), len(im.Packages))
	if len(im.Hooks) > 0 {
		fmt.Fprintf(w, "firstboot\t%s\n", strings.Join(im.Hooks, ","))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tARCH\tSOURCE\tLAYER\tGROUP")
	for _, p := range im.Packages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Version, dash(p.Architecture), dash(p.Source), shortDigest(p.Layer.Hex), p.Group)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortDigest(hex string) string { return hex[:min(len(hex), 12)] }

// newOpener returns an image opener over the store in dir (the per-user
// store when ""), if it exists: bare tags are looked up there and its
// package images complete what image annotations leave out. A missing
// store is not created.
func newOpener(dir string) (*inspect.Opener, error) {
	st, err := existingStore(dir)
	if err != nil || st == nil {
		return &inspect.Opener{}, err
	}
	cat, err := inspect.NewCatalog(st)
	if err != nil {
		return nil, err
	}
	return &inspect.Opener{Store: st, Catalog: cat}, nil
}

// existingStore opens the store in dir (default: the per-user store) if
// it is an OCI layout already, else returns nil.
func existingStore(dir string) (*store.Store, error) {
	if dir == "" {
		d, err := store.DefaultDir()
		if err != nil {
			return nil, nil
		}
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		return nil, nil
	}
	return store.Open(dir)
}
