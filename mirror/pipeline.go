package mirror

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/store"
)

// downloadDir is where .debs wait for their conversion, inside the store
// so that a rename into place never crosses a file system. A verified .deb
// left there by a killed run (named by its SHA256) is converted by the next
// run without downloading it again; partial downloads are removed.
// Each shard has its own directory below it.
func downloadDir(st *store.Store, sh Shard) string {
	d := st.Area(store.AreaDownloads)
	if sh.N > 1 {
		d = filepath.Join(d, fmt.Sprintf("shard-%d-of-%d", sh.I, sh.N))
	}
	return d
}

// cleanDownloads removes partial downloads and the .debs that no package
// still to convert needs (keep, by SHA256; nil keeps every complete .deb);
// the caller holds the run lock.
func cleanDownloads(dir string, keep map[string]bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("download directory: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("download directory: %w", err)
	}
	for _, e := range ents {
		if e.IsDir() {
			if keep == nil {
				os.RemoveAll(filepath.Join(dir, e.Name())) // a shard's, under the exclusive lock
			}
			continue
		}
		sum, isDeb := strings.CutSuffix(e.Name(), ".deb")
		if !isDeb || strings.HasPrefix(e.Name(), ".") || (keep != nil && !keep[sum]) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// outcome is what became of one package of the scope.
type outcome struct {
	rec    *store.Record
	cached bool // in the store before this run
	err    error
}

// pipeline downloads the packages of need a few at a time and hands each
// verified .deb to a bounded pool of conversions as soon as it is there, so
// downloads and conversions overlap and at most Downloads+2*Jobs .debs are
// on disk at once. A package that fails is recorded and the others go on;
// a verification failure (tampering) stops the whole run.
func (r *runner) pipeline(ctx context.Context, need []*archive.Package) ([]outcome, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]outcome, len(need))
	jobs := r.o.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	downloads := r.o.Downloads
	if downloads <= 0 {
		downloads = 4
	}
	dir := downloadDir(r.st, r.o.Shard)
	type item struct {
		i    int
		path string
	}
	ch := make(chan item, jobs)
	var fatal atomic.Pointer[error]
	stop := func(err error) {
		if fatal.CompareAndSwap(nil, &err) {
			cancel(err)
		}
	}

	go func() {
		defer close(ch)
		var wg sync.WaitGroup
		sem := make(chan struct{}, downloads)
		for i, p := range need {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				out[i].err = fmt.Errorf("fetch %s: %w", p.ID(), context.Cause(ctx))
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				dest := filepath.Join(dir, p.SHA256+".deb")
				if reusable(dest, p) {
					r.report.Step("download", 0) // left by a killed run
				} else {
					if err := r.client.Fetch(ctx, p, dest); err != nil {
						out[i].err = err
						if errors.Is(err, archive.ErrVerification) {
							stop(err)
						}
						return
					}
					r.downloaded.Add(p.Size)
					r.report.Step("download", p.Size)
				}
				select {
				case ch <- item{i, dest}:
				case <-ctx.Done():
					out[i].err = fmt.Errorf("convert %s: %w", p.ID(), context.Cause(ctx))
				}
			}()
		}
		wg.Wait()
	}()

	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				out[it.i] = r.convert(ctx, need[it.i], it.path)
				r.report.Step("convert", 0)
			}
		}()
	}
	wg.Wait()
	if p := fatal.Load(); p != nil {
		return out, *p
	}
	return out, ctx.Err()
}

// convert turns one verified .deb into its layer through convert.Batch and
// removes the .deb.
func (r *runner) convert(ctx context.Context, p *archive.Package, path string) outcome {
	defer os.Remove(path)
	sink := crashSinkOf(r.st)
	res := convert.Batch(ctx, []convert.Job{{Path: path, DebSHA256: p.SHA256}}, sink, convert.BatchOptions{
		Options: convert.Options{Compression: r.o.Compression, XZ: r.o.XZ, MaxExpandedSize: r.o.MaxExpandedSize},
		Jobs:    1,
	})[0]
	if res.Err != nil {
		return outcome{err: fmt.Errorf("convert %s (%s): %w", p.ID(), p.Filename, res.Err)}
	}
	l := res.Layer
	if l.Package != p.Name || l.Version != p.Version || l.Architecture != p.Architecture {
		return outcome{err: fmt.Errorf("convert %s (%s): the .deb is %s %s %s, not what Packages lists",
			p.ID(), p.Filename, l.Package, l.Version, l.Architecture)}
	}
	rec, ok, err := r.st.LookupRecord(r.key(p))
	if err != nil || !ok {
		return outcome{err: fmt.Errorf("convert %s: layer not in the store after conversion: %v", p.ID(), err)}
	}
	if !res.Cached {
		r.stored.Add(l.Size)
		crash(crashConverted)
	}
	return outcome{rec: rec, cached: res.Cached}
}

// reusable reports whether dest holds p's .deb already (left by a killed
// run): the right size and SHA256. Anything else there is removed.
func reusable(dest string, p *archive.Package) bool {
	f, err := os.Open(dest)
	if err != nil {
		return false
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil && n == p.Size && hex.EncodeToString(h.Sum(nil)) == p.SHA256 {
		return true
	}
	os.Remove(dest)
	return false
}
