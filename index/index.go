// Package index is the mirror index model: what a mirror run published —
// every mirrored (package, version, architecture), its metadata for
// dependency resolution and the location of its layer — with its codec,
// its place in a store or registry (an OCI artifact under LatestRef and
// dated refs) and resolution over it. mirror writes it; compose, update,
// lockfile and inspect read it, without depending on the mirror run, the
// archive client or OpenPGP.
package index

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// FormatVersion is the version of the mirror index format. A reader refuses
// an index of another format.
const FormatVersion = 1

// EntryRevision counts the additions to Entry that keep FormatVersion: new
// fields with omitempty, which an older deb2fs skips (its decoder ignores
// unknown keys) and which a newer one reads as empty from an older index.
// It is part of a run's input digest, so that a run does not take an index
// written without a field for up to date. 2: Suggests and Important. 3:
// Seq, the archive's order.
const EntryRevision = 3

// Index is a mirror index: what a mirror run published. Compose reads it to
// resolve a request and to pick layers; it never reads the archive.
type Index struct {
	Format  int       `json:"format"`
	Created time.Time `json:"created"`
	// Origins are the archive releases the packages come from.
	Origins []Origin `json:"origins"`
	// Packages are sorted by name, version, architecture. Their Seq keeps
	// the archive's own order, which resolution needs (Index.Universe).
	Packages []Entry `json:"packages"`
	// Scope is what was mirrored: "all", or the requested package names
	// (sorted) whose closure, with the essential set, was mirrored.
	Scope []string `json:"scope,omitempty"`
	// Input is a digest of everything the run's result depends on: the
	// index and layer formats, the compression, the scope, and the SHA256
	// of every Packages file read. A run whose input equals the latest
	// index's has nothing to do.
	Input string `json:"input,omitempty"`
	// Missing are the packages of the scope ("name version arch") that a
	// partial run left out because they failed; an index with missing
	// packages is never up to date, so the next run retries them.
	Missing []string `json:"missing,omitempty"`
}

// Origin is one archive release (suite) a mirror run read.
type Origin struct {
	Archive    string    `json:"archive"` // base URI
	Codename   string    `json:"codename"`
	Suite      string    `json:"suite,omitempty"`
	Components []string  `json:"components"`
	Date       time.Time `json:"date"`   // the InRelease Date
	Signer     string    `json:"signer"` // fingerprint of the key that verified it
}

// Entry is one mirrored binary package and its layer.
type Entry struct {
	Package       string `json:"package"`
	Version       string `json:"version"`
	Architecture  string `json:"architecture"`
	MultiArch     string `json:"multiArch,omitempty"`
	Essential     bool   `json:"essential,omitempty"`
	Important     bool   `json:"important,omitempty"` // Important: yes or Protected: yes, as resolve.Package.Important
	Priority      string `json:"priority,omitempty"`
	Section       string `json:"section,omitempty"`
	Source        string `json:"source,omitempty"`
	Depends       string `json:"depends,omitempty"`
	PreDepends    string `json:"preDepends,omitempty"`
	Provides      string `json:"provides,omitempty"`
	Conflicts     string `json:"conflicts,omitempty"`
	Breaks        string `json:"breaks,omitempty"`
	Replaces      string `json:"replaces,omitempty"`
	Recommends    string `json:"recommends,omitempty"`
	Suggests      string `json:"suggests,omitempty"`
	InstalledSize int64  `json:"installedSize,omitempty"`
	// The .deb this layer was made from.
	Filename  string `json:"filename"`
	DebSize   int64  `json:"debSize"`
	DebSHA256 string `json:"debSHA256"`
	Origin    int    `json:"origin"` // index into Index.Origins
	// Seq is the place of the package's name in the archive's order (see
	// ArchiveOrder), from 1: apt's parse order, which decides between
	// otherwise equal providers. 0 (left out) in an index of a deb2fs
	// before it; Index.Universe then keeps the index's own order.
	Seq int `json:"seq,omitempty"`

	Layer Layer `json:"layer"`
}

// Layer locates a package layer in the store.
type Layer struct {
	Digest    v1.Hash         `json:"digest"`
	DiffID    v1.Hash         `json:"diffID"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType"`
	// Manifest is the digest of the package's one-layer image in the store.
	Manifest v1.Hash `json:"manifest"`
	// Format is the layer-format version (convert.FormatVersion) the layer
	// was made with.
	Format int `json:"format,omitempty"`
}
