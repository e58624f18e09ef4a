package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/store"
)

// Exit statuses of deb2fs mirror, for cron.
const (
	mirrorExitFailed  = 1 // nothing published (verification failure, error, failed packages)
	mirrorExitPartial = 2 // published with --partial, some packages left out
	mirrorExitBusy    = 3 // another run holds the store
)

func newMirror() *cobra.Command {
	var (
		storeDir, workDir, packages, compression, xz, keyring, aptRoot, shard string
		ov                                                                    aptsources.Override
		o                                                                     mirror.Options
		asJSON                                                                bool
	)
	cmd := &cobra.Command{
		Use:   "mirror [--store DIR] (--packages \"PKG...\" | --all) [--archive URL --suite S --component C --arch A] [-j N] [--json]",
		Short: "Mirror a Debian archive into the layer store, incrementally",
		Long: `Fetch and verify the archive named by the host's apt sources (or by
--archive/--suite/--component/--arch), convert every package in scope that
the store does not hold yet into its layer, and publish a mirror index
(tag deb2fs-index-latest, plus a dated copy) that compose reads.

Scope: --packages "nginx openssh-server" mirrors their dependency closure
plus the essential set; --all mirrors every package.

A rerun with no archive change downloads and converts nothing. A run killed
at any point leaves the previous index valid; the next run resumes.

Exit status: 0 published or already up to date; 1 nothing published (a
verification failure, an error, or failed packages); 2 published without
some failed packages (--partial); 3 another run holds the store.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			comp, err := convert.ParseCompression(compression)
			if err != nil {
				return err
			}
			repo, err := registryStore(storeDir)
			if err != nil {
				return err
			}
			if repo != "" {
				if o.Remote, err = mirror.NewRemote(repo); err != nil {
					return err
				}
				storeDir = workDir // layers are converted here, then pushed
			} else if workDir != "" {
				return errors.New("mirror: --work is for a registry --store")
			}
			st, err := openStore(storeDir)
			if err != nil {
				return err
			}
			if shard != "" {
				if o.Shard, err = mirror.ParseShard(shard); err != nil {
					return err
				}
			}
			ov.SignedBy = keyring
			o.Store, o.Override, o.AptRoot = st, ov, aptRoot
			o.Compression, o.XZ = comp, convert.XZDecoder(xz)
			o.Packages = strings.FieldsFunc(packages, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
			if o.All && len(o.Packages) > 0 {
				return errors.New("mirror: give --packages or --all, not both")
			}
			rep := newMirrorReporter(cmd.Context(), cmd.ErrOrStderr())
			o.Report = rep
			sum, err := mirror.Run(cmd.Context(), o)
			rep.close()
			where := st.Dir()
			if o.Remote != nil {
				where = o.Remote.Repo.String()
			}
			if asJSON {
				printMirrorJSON(cmd.OutOrStdout(), where, sum, err)
			} else {
				printMirrorSummary(cmd.ErrOrStderr(), where, sum)
			}
			switch {
			case err == nil:
				return nil
			case errors.Is(err, store.ErrBusy):
				return exitError{code: mirrorExitBusy, msg: err.Error()}
			case sum.Published:
				return exitError{code: mirrorExitPartial, msg: err.Error()}
			}
			return exitError{code: mirrorExitFailed, msg: err.Error()}
		},
	}
	f := cmd.Flags()
	f.StringVar(&storeDir, "store", "", "layer store: an OCI image layout directory (default: the per-user store) or a registry repository REGISTRY/REPO")
	f.StringVar(&workDir, "work", "", "with a registry --store: the layout directory layers are converted in before they are pushed (default: the per-user store)")
	f.StringVar(&packages, "packages", "", "packages whose dependency closure (plus the essential set) to mirror, space or comma separated")
	f.BoolVar(&o.All, "all", false, "mirror every package of the archive")
	f.StringArrayVar(&ov.Archives, "archive", nil, "archive base URL, instead of the host's apt sources (repeatable)")
	f.StringArrayVar(&ov.Suites, "suite", nil, "suite to read (repeatable; without --archive, narrows the host's sources)")
	f.StringArrayVar(&ov.Components, "component", nil, "component to read (repeatable; default main with --archive)")
	f.StringArrayVar(&ov.Architectures, "arch", nil, "binary architecture to read (repeatable; default the native one)")
	f.StringVar(&keyring, "keyring", "", "keyring (path or fingerprints) the Release must be signed by, instead of the source's Signed-By")
	f.StringVar(&aptRoot, "apt-root", "", "read the apt sources under this root instead of /")
	f.IntVarP(&o.Jobs, "jobs", "j", 0, "conversions run at once (default: number of CPUs)")
	f.IntVar(&o.Downloads, "downloads", 4, "downloads run at once")
	f.StringVar(&compression, "compression", "gzip", "layer compression: gzip or zstd")
	f.StringVar(&xz, "xz", "", "xz decoder: exec (the xz program), go (pure Go); default exec when xz is installed")
	f.BoolVar(&o.Wait, "wait", false, "wait for another run on the same store instead of failing (exit 3)")
	f.BoolVar(&o.Partial, "partial", false, "publish the index without packages that failed to download or convert (exit 2); never after a verification failure")
	f.BoolVar(&o.Strict, "strict", false, "fail when a source cannot be fetched, instead of leaving it out with a warning")
	f.StringVar(&shard, "shard", "", "convert only share I of N (I/N) and publish nothing; shards may run at once on one store; then run once without --shard to publish")
	f.IntVar(&o.Keep, "keep", 0, "after publishing, keep only the newest N dated copies of the index (0: keep all); package layers are never removed")
	f.BoolVar(&o.Force, "force", false, "rebuild and republish the index even if the archive has not changed")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON on stdout")
	maxExpandedSizeFlag(cmd, &o.MaxExpandedSize)
	return cmd
}

// mirrorJSON is the --json output: the summary, the store and the error.
type mirrorJSON struct {
	mirror.Summary
	Store string `json:"store"`
	Error string `json:"error,omitempty"`
}

func printMirrorJSON(w io.Writer, where string, sum mirror.Summary, err error) {
	out := mirrorJSON{Summary: sum, Store: where}
	if err != nil {
		out.Error = err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func printMirrorSummary(w io.Writer, where string, s mirror.Summary) {
	d := s.Duration.Round(time.Millisecond)
	switch {
	case s.Shard != "" && !s.UpToDate:
		fmt.Fprintf(w, "shard %s done (%s) in %s: %d packages in its share: %d new, %d unchanged, %d failed; %s downloaded, %s stored; publish with a run without --shard\n",
			s.Shard, where, d, s.Packages, s.New, s.Unchanged, s.Failed, bytesText(s.BytesDownloaded), bytesText(s.BytesStored))
	case s.UpToDate:
		fmt.Fprintf(w, "up to date: the archive has not changed since the latest index (%d packages); nothing downloaded, nothing converted, in %s\n", s.Packages, d)
	case s.Published:
		fmt.Fprintf(w, "published %s (%s) in %s: %d packages: %d new, %d unchanged, %d failed; %s downloaded, %s stored\n",
			s.DatedRef, where, d, s.Packages, s.New, s.Unchanged, s.Failed, bytesText(s.BytesDownloaded), bytesText(s.BytesStored))
	default:
		fmt.Fprintf(w, "nothing published (%s): %d packages: %d new, %d unchanged, %d failed; %s downloaded, %s stored, in %s\n",
			where, s.Packages, s.New, s.Unchanged, s.Failed, bytesText(s.BytesDownloaded), bytesText(s.BytesStored), d)
	}
	for _, f := range s.Failures {
		fmt.Fprintf(w, "failed: %s: %s\n", f.Package, f.Error)
	}
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// mirrorReporter shows bars for downloads and conversions on a terminal,
// and a line per phase otherwise (for logs and cron mail).
type mirrorReporter struct {
	w    io.Writer
	tty  bool
	p    *mpb.Progress
	mu   sync.Mutex
	bars map[string]*mpb.Bar
}

func newMirrorReporter(ctx context.Context, w io.Writer) *mirrorReporter {
	r := &mirrorReporter{w: w, bars: map[string]*mpb.Bar{}}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		r.tty = true
		r.p = mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithAutoRefresh())
	}
	return r
}

func (r *mirrorReporter) Phase(name string, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tty && total > 0 {
		r.bars[name] = r.p.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersNoUnit("%d / %d")),
			mpb.AppendDecorators(decor.Percentage(), decor.Name(" "), decor.EwmaETA(decor.ET_STYLE_GO, 30)))
		return
	}
	if r.tty {
		return
	}
	if total > 0 {
		fmt.Fprintf(r.w, "mirror: %s: %d packages\n", name, total)
	} else {
		fmt.Fprintf(r.w, "mirror: %s\n", name)
	}
}

func (r *mirrorReporter) Step(phase string, _ int64) {
	r.mu.Lock()
	b := r.bars[phase]
	r.mu.Unlock()
	if b != nil {
		b.Increment()
	}
}

func (r *mirrorReporter) Warn(msg string) {
	if r.tty && r.p != nil {
		fmt.Fprintln(r.p, "warning: "+msg)
		return
	}
	fmt.Fprintln(r.w, "mirror: warning: "+msg)
}

func (r *mirrorReporter) close() {
	if r.p == nil {
		return
	}
	r.mu.Lock()
	for _, b := range r.bars {
		b.SetTotal(-1, true)
	}
	r.mu.Unlock()
	r.p.Wait()
}
