package convert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"

	"golang.org/x/sync/errgroup"
)

// Key identifies a package layer before it is made: the .deb's SHA256, the
// layer-format version and the compression. Equal keys give equal layers.
type Key struct {
	DebSHA256   string
	Compression Compression
}

// String is the key as a file name: "<sha256>-f<format>-<compression>".
func (k Key) String() string {
	return fmt.Sprintf("%s-f%d-%s", k.DebSHA256, FormatVersion, k.Compression)
}

// Sink is where a batch puts its layers: a content-addressed store.
type Sink interface {
	// Lookup returns the layer already stored under key, if any.
	Lookup(key Key) (*Layer, bool, error)
	// Put stores the layer that write produces under key. write may fail;
	// then nothing of it may remain in the sink.
	Put(ctx context.Context, key Key, write func(io.Writer) (*Layer, error)) (*Layer, error)
}

// Job is one .deb to convert.
type Job struct {
	Path string
	// DebSHA256 is the expected SHA256 when known (from Packages); when
	// empty the file is hashed first to look the layer up.
	DebSHA256 string
}

// Result is the outcome of one Job.
type Result struct {
	Job    Job
	Layer  *Layer
	Cached bool // the layer was already in the sink: nothing was converted
	Err    error
}

// BatchOptions control a batch.
type BatchOptions struct {
	Options
	// Jobs is the number of conversions run at once; 0 means one per CPU.
	Jobs int
	// Done, if set, is called after each job (from the worker goroutine).
	Done func(Result)
}

// Batch converts every job into sink with at most Jobs conversions at once.
// A failing job does not stop the others; its error names the file. Memory
// is bounded by Jobs, whatever the number of jobs: each conversion streams.
// Results come back in the order of jobs.
func Batch(ctx context.Context, jobs []Job, sink Sink, opts BatchOptions) []Result {
	n := opts.Jobs
	if n <= 0 {
		n = runtime.NumCPU()
	}
	if opts.Compression == "" {
		opts.Compression = Gzip
	}
	results := make([]Result, len(jobs))
	var g errgroup.Group
	g.SetLimit(n)
	for _, i := range largestFirst(jobs) {
		job := jobs[i]
		if ctx.Err() != nil {
			results[i] = Result{Job: job, Err: fmt.Errorf("%s: %w", job.Path, context.Cause(ctx))}
			continue
		}
		g.Go(func() error {
			r := convertOne(ctx, job, sink, opts.Options)
			results[i] = r
			if opts.Done != nil {
				opts.Done(r)
			}
			return nil
		})
	}
	g.Wait()
	return results
}

func convertOne(ctx context.Context, job Job, sink Sink, opts Options) Result {
	res := Result{Job: job}
	sum := job.DebSHA256
	if sum == "" {
		var err error
		if sum, err = hashFile(job.Path); err != nil {
			res.Err = err
			return res
		}
	}
	key := Key{DebSHA256: sum, Compression: opts.Compression}
	if l, ok, err := sink.Lookup(key); err != nil {
		res.Err = fmt.Errorf("%s: %w", job.Path, err)
		return res
	} else if ok {
		res.Layer, res.Cached = l, true
		return res
	}
	f, err := os.Open(job.Path)
	if err != nil {
		res.Err = err
		return res
	}
	defer f.Close()
	opts.DebSHA256 = sum
	res.Layer, res.Err = sink.Put(ctx, key, func(w io.Writer) (*Layer, error) {
		return Convert(ctx, f, w, opts)
	})
	if res.Err != nil {
		res.Err = fmt.Errorf("%s: %w", job.Path, res.Err)
	}
	return res
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// largestFirst returns the indexes of jobs, largest file first: with a
// bounded pool, starting the big conversions early keeps one large package
// from running alone at the end while the other workers sit idle.
func largestFirst(jobs []Job) []int {
	order := make([]int, len(jobs))
	size := make([]int64, len(jobs))
	for i, j := range jobs {
		order[i] = i
		if fi, err := os.Stat(j.Path); err == nil {
			size[i] = fi.Size()
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return size[order[a]] > size[order[b]] })
	return order
}
