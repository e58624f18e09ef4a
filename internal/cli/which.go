package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/inspect"
)

func newWhich() *cobra.Command {
	var (
		storeDir       string
		registries     []string
		source, asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "which [--store DIR | --registry HOST/REPO...] [--source] [--json] PKG[=V|<<V|<=V|>=V|>>V][,OP V...]",
		Short: "List the images that hold a package in a version range, without pulling layers",
		Long: `List every image holding PKG in the given version range (dpkg's version
comparison; several relations separated by commas must all hold, e.g.
libssl3>=3.0,<<3.0.15): the images tagged in the store (or any OCI layout
given as --store), or every tag of the registry repositories named with
--registry. Package images and mirror indexes are skipped. Only manifests
and configs are read.

--source matches the source package instead of the binary package.

Exit status: 0 when an image matched, 1 when none did, 2 on an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := inspect.ParseQuery(args[0])
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			q.Source = source
			o, err := newOpener(storeDir)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			var images []*inspect.Image
			var errs []error
			if len(registries) > 0 {
				for _, r := range registries {
					ims, es := o.RepoImages(cmd.Context(), r)
					images, errs = append(images, ims...), append(errs, es...)
				}
			} else {
				if o.Store == nil {
					return exitError{code: 2, msg: "no store (use --store DIR or --registry HOST/REPO)"}
				}
				images, errs = o.LayoutImages(o.Store.Dir())
			}
			for _, e := range errs {
				fmt.Fprintln(cmd.ErrOrStderr(), "deb2fs: warning:", e)
			}
			hits := inspect.Which(images, q)
			if asJSON {
				type hit struct {
					Ref      string            `json:"ref"`
					Digest   string            `json:"digest"`
					Packages []inspect.Package `json:"packages"`
				}
				out := []hit{}
				for _, h := range hits {
					out = append(out, hit{h.Image.Ref, h.Image.Digest.String(), h.Packages})
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				for _, h := range hits {
					for _, p := range h.Packages {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", h.Image.Ref, h.Image.Digest, p.Name, p.Version, dash(p.Architecture))
					}
				}
				tw.Flush()
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "which %s: %d of %d images\n", q, len(hits), len(images))
			if len(errs) > 0 && len(hits) == 0 {
				return exitError{code: 2}
			}
			if len(hits) == 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	storeFlag(cmd, &storeDir)
	f := cmd.Flags()
	f.StringSliceVar(&registries, "registry", nil, "registry repositories to search, HOST[:PORT]/REPO (repeatable); every tag is read")
	f.BoolVar(&source, "source", false, "match the source package's name and version")
	f.BoolVar(&asJSON, "json", false, "print the matching images and packages as JSON")
	cmd.MarkFlagsMutuallyExclusive("store", "registry")
	return cmd
}
