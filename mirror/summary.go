package mirror

import (
	"errors"
	"time"
)

// ErrFailed is matched (errors.Is) by the error Run returns when packages
// failed to download or convert; Summary.Failed lists them.
var ErrFailed = errors.New("packages failed")

// Summary is what a run did, for people and for cron (`--json`).
type Summary struct {
	// UpToDate is set when the archive had not changed since the latest
	// index: nothing was downloaded, converted or published.
	UpToDate bool `json:"upToDate"`
	// Published is set when a new index was published.
	Published bool `json:"published"`
	// Ref and DatedRef are the tags the index was published under (when
	// up to date: those of the latest index, which stays).
	Ref      string `json:"ref,omitempty"`
	DatedRef string `json:"datedRef,omitempty"`
	// Index is the digest of that index's manifest in the store.
	Index string `json:"index,omitempty"`

	// Shard is "I/N" for a sharded run, which converts its share of the
	// packages and publishes nothing; its counts are of its share.
	Shard string `json:"shard,omitempty"`
	// Packages is the number of packages in scope.
	Packages  int `json:"packages"`
	New       int `json:"new"`       // converted by this run
	Unchanged int `json:"unchanged"` // already in the store
	Failed    int `json:"failed"`
	// Pushed counts the package images pushed to a registry target.
	Pushed int `json:"pushed,omitempty"`
	// Failures name each failed package and why.
	Failures []Failure `json:"failures,omitempty"`

	BytesDownloaded int64 `json:"bytesDownloaded"`
	// BytesStored counts new blobs: layers converted by this run and the
	// index.
	BytesStored int64 `json:"bytesStored"`
	// Pruned are the dated copies of the index removed (Options.Keep).
	Pruned []string `json:"pruned,omitempty"`
	// Skipped are the sources left out because they could not be fetched.
	Skipped []string `json:"skipped,omitempty"`

	// Phases are the seconds spent in each phase: sources (with the
	// up-to-date check), load (Packages, merge, scope, diff), fetch+convert,
	// push, publish.
	Phases map[string]float64 `json:"phases,omitempty"`

	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"-"`
	Seconds  float64       `json:"seconds"`
}

// Failure is one package that could not be mirrored.
type Failure struct {
	Package string `json:"package"` // "name version arch"
	Error   string `json:"error"`
}
