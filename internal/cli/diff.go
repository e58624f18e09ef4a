package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/inspect"
)

func newDiff() *cobra.Command {
	var (
		storeDir string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "diff [--store DIR] [--json] IMAGE1 IMAGE2",
		Short: "Show the packages added, removed and changed between two images",
		Long: `Compare the packages of two images (references as for deb2fs inspect),
read from their manifests and configs only:

  + NAME VERSION ARCH          in IMAGE2 only
  - NAME VERSION ARCH          in IMAGE1 only
  ~ NAME OLD -> NEW ARCH       another version

then a summary with the layers of IMAGE2 that IMAGE1 lacks and the bytes a
push of IMAGE2 where IMAGE1 is would upload.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := newOpener(storeDir)
			if err != nil {
				return err
			}
			a, err := o.Open(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			b, err := o.Open(cmd.Context(), args[1])
			if err != nil {
				return err
			}
			d := inspect.Compare(a, b)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(d)
			}
			printDiff(cmd.OutOrStdout(), d)
			return nil
		},
	}
	storeFlag(cmd, &storeDir)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the difference as JSON")
	return cmd
}

// printDiff prints a package diff and its summary.
func printDiff(w io.Writer, d *inspect.Diff) {
	for _, p := range d.Added {
		fmt.Fprintf(w, "+ %s %s %s\n", p.Name, p.Version, dash(p.Architecture))
	}
	for _, p := range d.Removed {
		fmt.Fprintf(w, "- %s %s %s\n", p.Name, p.Version, dash(p.Architecture))
	}
	for _, c := range d.Changed {
		fmt.Fprintf(w, "~ %s %s -> %s %s\n", c.Name, c.Old.Version, c.New.Version, dash(c.Architecture))
	}
	fmt.Fprintf(w, "%d added, %d removed, %d changed, %d unchanged; %d new layers, %d bytes to push\n",
		len(d.Added), len(d.Removed), len(d.Changed), d.Unchanged, len(d.NewLayers), d.NewBytes)
}
