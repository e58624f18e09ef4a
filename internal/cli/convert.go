package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/deb2fs/deb2fs/convert"
)

func newConvert() *cobra.Command {
	var (
		storeDir, compression, xz string
		jobs                      int
		maxExpanded               int64
	)
	cmd := &cobra.Command{
		Use:   "convert [-j N] [--store DIR] FILE.deb...",
		Short: "Convert .deb files into package layers in the store",
		Long: `Convert each .deb into one package layer (what dpkg --unpack leaves: its
files and its dpkg database entries) in the layer store, and print per
package: name, version, architecture, layer digest and size. A .deb that is
already in the store is not converted again.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			comp, err := convert.ParseCompression(compression)
			if err != nil {
				return err
			}
			st, err := openStore(storeDir)
			if err != nil {
				return err
			}
			jobsList := make([]convert.Job, len(args))
			for i, a := range args {
				jobsList[i] = convert.Job{Path: a}
			}
			start := time.Now()
			bar := newProgress(cmd.Context(), "convert", len(args))
			results := convert.Batch(cmd.Context(), jobsList, st, convert.BatchOptions{
				Options: convert.Options{Compression: comp, XZ: convert.XZDecoder(xz), MaxExpandedSize: maxExpanded},
				Jobs:    jobs,
				Done:    func(convert.Result) { bar.Increment() },
			})
			bar.Wait()
			var keys []convert.Key
			failed, cached := 0, 0
			var bytes int64
			out := cmd.OutOrStdout()
			for _, r := range results {
				if r.Err != nil {
					failed++
					fmt.Fprintln(cmd.ErrOrStderr(), "deb2fs: convert:", r.Err)
					continue
				}
				l := r.Layer
				if r.Cached {
					cached++
				} else {
					bytes += l.Size
				}
				keys = append(keys, convert.Key{DebSHA256: l.DebSHA256, Compression: comp})
				fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%d\n", l.Package, l.Version, l.Architecture, l.Digest, l.Size)
			}
			if err := st.Publish(keys); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "converted %d, already stored %d, failed %d; %d bytes written to %s in %s\n",
				len(results)-failed-cached, cached, failed, bytes, st.Dir(), time.Since(start).Round(time.Millisecond))
			if failed > 0 {
				return exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&jobs, "jobs", "j", 0, "conversions run at once (default: number of CPUs)")
	f.StringVar(&compression, "compression", "gzip", "layer compression: gzip or zstd")
	f.StringVar(&xz, "xz", "", "xz decoder: exec (the xz program), go (pure Go); default exec when xz is installed")
	maxExpandedSizeFlag(cmd, &maxExpanded)
	storeFlag(cmd, &storeDir)
	return cmd
}
