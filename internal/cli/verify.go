package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/compose"
)

func newVerify() *cobra.Command {
	var (
		storeDir string
		repair   bool
	)
	cmd := &cobra.Command{
		Use:   "verify [--store DIR] [--repair]",
		Short: "Check a store: every blob against its digest, the index, the records and compose's caches",
		Long: `Check the store as fsck checks a file system: every blob hashes to its name;
index.json parses and every image it lists has its manifest, config and
layers; every layer record points at present blobs; every unpacked layer
tree matches its stat manifest and, file by file, the blob it came from;
every cached configure and group layer is intact. Each problem is printed
with the blob, tag or path it concerns.

--repair removes what is damaged: bad blobs, the tags and records that need
them (each line says what to run again: deb2fs mirror converts a package
again, compose remakes an image) and bad cache entries (compose makes them
again). The store then verifies. Run it while no mirror or compose uses the
store.

Exit status: 0 when nothing is wrong (or, with --repair, nothing was), 1
when a problem was found, 2 on an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(storeDir)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			ps, err := st.Verify(repair)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			cps, err := compose.VerifyCache(st, repair)
			if err != nil {
				return exitError{code: 2, msg: err.Error()}
			}
			ps = append(ps, cps...)
			for _, p := range ps {
				fmt.Fprintln(cmd.OutOrStdout(), p)
			}
			if len(ps) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: no problem found\n", st.Dir())
				return nil
			}
			how := "found"
			if repair {
				how = "found and repaired"
			}
			return exitError{code: 1, msg: fmt.Sprintf("%s: %d problems %s", st.Dir(), len(ps), how)}
		},
	}
	storeFlag(cmd, &storeDir)
	cmd.Flags().BoolVar(&repair, "repair", false, "remove damaged blobs, the tags and records that need them, and bad cache entries")
	return cmd
}
