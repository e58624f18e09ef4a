package configure

import (
	"context"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// Options are a configure run's inputs besides the package set.
type Options struct {
	// SourceDateEpoch is the time the layer claims; 0 derives it from the
	// layers (the newest file).
	SourceDateEpoch int64
	// Accounts are made before the first dpkg --configure.
	Accounts Accounts
	// Assemble is how the root is materialised.
	Assemble Assembly
	// WorkDir holds the scratch roots ("": /dev/shm when it is a big
	// enough tmpfs, else the temporary directory).
	WorkDir string
	// ScriptTimeout bounds each maintainer-script run; Pids and Memory
	// limit the sandbox (0: the sandbox's defaults).
	ScriptTimeout time.Duration
	Pids          int
	Memory        int64
	// CheckInstanceState configures a second root (other host name, boot
	// id, time) and compares the two (Result.InstanceState).
	CheckInstanceState bool
	// AllowInstanceState turns unknown per-instance state into warnings
	// (Verdict).
	AllowInstanceState bool
	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any)
}

// Result is a configure layer made: its blob in the store, its diff id,
// the time it claims and the differential check's result.
type Result struct {
	Layer           v1.Descriptor `json:"layer"`
	DiffID          v1.Hash       `json:"diffID"`
	SourceDateEpoch int64         `json:"sourceDateEpoch"`
	// InstanceState is the differential check's result, if it ran when
	// the layer was made.
	InstanceState *InstanceState `json:"instanceState,omitempty"`
}

// Timings are the durations of a configure run's steps.
type Timings struct {
	Assemble  time.Duration // materialising the root from the layers
	Preinst   time.Duration // every preinst install
	Configure time.Duration // dpkg --configure --pending
	Capture   time.Duration // normalising and writing the configure layer
}

// Builder makes the configure layer of one package set: one configure
// run.
type Builder struct {
	opts    Options
	st      *store.Store
	arch    string
	pkgs    []index.Entry // canonical layer order
	timings Timings

	configureOutput []byte
	assembly        string // how the root was materialised, once it was
	ctx             context.Context
	// ids is the sandbox's id mapping: the owners of the assembled root's
	// files (assemble.go).
	ids sandbox.IDs

	// The background fill of the unpacked-layer cache (assemble.go).
	fillOnce  sync.Once
	fill      chan error // receives the fill's result; nil when none runs
	fillStart time.Time
	fillN     int

	// checks are the store's blobs this compose hashed.
	checks *store.Checks
}

// New is the Builder of pkgs (in canonical layer order, of architecture
// arch), whose layers st holds; checks are the blobs already hashed.
func New(st *store.Store, arch string, pkgs []index.Entry, checks *store.Checks, opts Options) *Builder {
	return &Builder{opts: opts, st: st, arch: arch, pkgs: pkgs, checks: checks}
}

// Build materialises the union of base and the package layers in a
// scratch root, runs the maintainer scripts in the sandbox and writes the
// difference as a blob into the store.
func (b *Builder) Build(ctx context.Context, base v1.Descriptor) (*Result, error) {
	b.ctx = ctx
	return b.build(ctx, base)
}

// Output is what dpkg printed in the last Build.
func (b *Builder) Output() []byte { return b.configureOutput }

// Assembled says how the root was materialised ("overlay" or "extract").
func (b *Builder) Assembled() string { return b.assembly }

// Timings are the steps' durations.
func (b *Builder) Timings() Timings { return b.timings }

func (c *Builder) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// PackageNames are the names of es.
func PackageNames(es []index.Entry) []string {
	out := make([]string, len(es))
	for i := range es {
		out[i] = es[i].Package
	}
	return out
}
