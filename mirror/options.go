package mirror

import (
	"time"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/store"
)

// Options control a mirror run.
type Options struct {
	// Store is the layer store to mirror into (required). With Remote, it
	// is the work store: layers are converted into it, then pushed.
	Store *store.Store
	// Remote, if set, is the registry repository to publish to instead of
	// Store (see Remote).
	Remote *Remote
	// Client is the archive client; nil means archive.New().
	Client *archive.Client
	// Sources are the apt sources to read. Nil means the host's
	// (aptsources.LoadSources(AptRoot)) with Override applied.
	Sources []aptsources.Source
	// AptRoot is the root under which etc/apt is read; "" is "/".
	AptRoot string
	// Override is --archive/--suite/--component/--arch/--keyring.
	Override aptsources.Override
	// Strict fails the run when a source cannot be fetched; otherwise that
	// suite is left out with a warning, as apt update does. Verification
	// failures always fail the run.
	Strict bool

	// Packages are the names whose dependency closure, with the essential
	// set, is mirrored. All mirrors every package instead. One of the two
	// is required.
	Packages []string
	All      bool

	// Compression of new layers; "" is gzip.
	Compression convert.Compression
	// XZ chooses the xz decoder for the conversions.
	XZ convert.XZDecoder
	// MaxExpandedSize caps a package's decompressed data.tar
	// (convert.Options.MaxExpandedSize); 0 is convert's default.
	MaxExpandedSize int64
	// Jobs is the number of conversions at once; 0 is one per CPU.
	Jobs int
	// Downloads is the number of .deb downloads at once; 0 is 4.
	Downloads int

	// Wait makes a run wait for another run on the same store to finish;
	// otherwise it fails at once with a *store.BusyError.
	Wait bool
	// Partial publishes an index without the packages that failed to
	// download or convert (a missing file, a .deb the converter refuses).
	// A verification failure never publishes anything.
	Partial bool
	// Shard makes this run one of N that share the conversions (see
	// Shard); the zero value is a whole run.
	Shard Shard
	// Keep, if positive, keeps only the newest Keep dated copies of the
	// index after publishing (see prune.go); 0 keeps them all.
	Keep int
	// Force rebuilds and republishes the index even when the archive
	// has not changed since the latest index.
	Force bool

	// Now is the clock for the index date; nil is time.Now.
	Now func() time.Time
	// Report receives progress; nil reports nothing.
	Report Reporter
}

// Reporter receives a run's progress. Calls may come from several
// goroutines at once.
type Reporter interface {
	// Phase starts a phase: "sources", "load", "download", "convert",
	// "publish", with the number of items it will count (0 if none).
	Phase(name string, total int)
	// Step counts one finished item of a phase.
	Step(phase string, bytes int64)
	// Warn reports something skipped that did not stop the run.
	Warn(msg string)
}

type nopReporter struct{}

func (nopReporter) Phase(string, int)  {}
func (nopReporter) Step(string, int64) {}
func (nopReporter) Warn(string)        {}
