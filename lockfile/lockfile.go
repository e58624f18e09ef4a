// Package lockfile records the exact package set an image definition
// resolved to — each package's name, version, architecture, .deb SHA256
// and layer digest, and the mirror index it came from — so that
// `deb2fs compose -f image.yaml --locked` composes that set again, on
// another machine or after the archive moved on, and gives the same image.
package lockfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/resolve"
)

// Version is the lock file format's version.
const Version = 1

// Lock is a lock file.
type Lock struct {
	Version int `json:"lockVersion"`
	// Request is what the definition asked for, as resolved: a lock is
	// stale once the definition asks for something else.
	Request Request `json:"request"`
	// Index is the digest of the mirror index the set was resolved over.
	Index string `json:"index"`
	// Packages are the resolved set, sorted by name.
	Packages []Package `json:"packages"`
}

// Request is the part of a definition that decides the package set.
type Request struct {
	Install    []string `json:"install"`
	Recommends bool     `json:"recommends,omitempty"`
	// Debs are the local .debs' SHA256s, in the definition's order.
	Debs []string `json:"debs,omitempty"`
}

// Package is one locked package.
type Package struct {
	Name         string  `json:"name"`
	Version      string  `json:"version"`
	Architecture string  `json:"architecture"`
	DebSHA256    string  `json:"debSHA256"`
	Layer        v1.Hash `json:"layer"`
	// Local marks a package from a local .deb of the definition.
	Local bool `json:"local,omitempty"`
}

// PathFor is the lock file of a definition: image.yaml → image.lock.json.
func PathFor(definition string) string {
	return strings.TrimSuffix(definition, filepath.Ext(definition)) + ".lock.json"
}

// New locks a resolved set: req as the definition asked (local packages'
// pins included), debs the local .debs' paths, index the mirror index's
// digest.
func New(req resolve.Request, debs []string, index v1.Hash, es []index.Entry) (*Lock, error) {
	l := &Lock{Version: Version, Index: index.String(), Request: Request{Install: req.Install, Recommends: req.Recommends}}
	for _, p := range debs {
		sum, err := fileSHA256(p)
		if err != nil {
			return nil, err
		}
		l.Request.Debs = append(l.Request.Debs, sum)
	}
	for _, e := range es {
		l.Packages = append(l.Packages, Package{
			Name: e.Package, Version: e.Version, Architecture: e.Architecture,
			DebSHA256: e.DebSHA256, Layer: e.Layer.Digest, Local: strings.HasPrefix(e.Filename, "local:"),
		})
	}
	return l, nil
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Marshal is the lock's file content: indented JSON, one key order, a
// final newline; the same lock gives the same bytes.
func (l *Lock) Marshal() []byte {
	data, _ := json.MarshalIndent(l, "", "  ")
	return append(data, '\n')
}

// Write writes the lock to path, atomically.
func (l *Lock) Write(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".lock-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(l.Marshal()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Read reads a lock file.
func Read(path string) (*Lock, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if l.Version != Version {
		return nil, fmt.Errorf("%s: lock format %d, this deb2fs reads %d", path, l.Version, Version)
	}
	if len(l.Packages) == 0 {
		return nil, fmt.Errorf("%s: no packages", path)
	}
	return &l, nil
}

// ErrStale is a lock whose definition asks for something else now.
var ErrStale = errors.New("the lock no longer matches the definition")

// Check says whether the lock is the one of a definition asking for
// install (without its local packages' pins) with these local .debs.
func (l *Lock) Check(install []string, recommends bool, debs []string) error {
	want := Request{Install: append([]string(nil), install...), Recommends: recommends}
	for _, p := range debs {
		sum, err := fileSHA256(p)
		if err != nil {
			return err
		}
		want.Debs = append(want.Debs, sum)
	}
	// The lock's install list ends with the local packages' pins.
	got := l.Request
	local := 0
	for _, p := range l.Packages {
		if p.Local {
			local++
		}
	}
	if len(got.Install) >= local {
		got.Install = got.Install[:len(got.Install)-local]
	}
	switch {
	case strings.Join(got.Install, " ") != strings.Join(want.Install, " "):
		return fmt.Errorf("%w: it locks packages %q, the definition asks for %q (run deb2fs lock again)", ErrStale, got.Install, want.Install)
	case got.Recommends != want.Recommends:
		return fmt.Errorf("%w: install-recommends changed (run deb2fs lock again)", ErrStale)
	case strings.Join(got.Debs, " ") != strings.Join(want.Debs, " "):
		return fmt.Errorf("%w: the local .debs changed (run deb2fs lock again)", ErrStale)
	}
	return nil
}

// Has reports whether the lock holds the package whose .deb has the
// SHA256 sum.
func (l *Lock) Has(sum string) bool {
	for _, p := range l.Packages {
		if p.DebSHA256 == sum {
			return true
		}
	}
	return false
}

// Entries finds every locked package in the indexes (the locked index
// first, when the store still has it) and the local entries: the set to
// compose. A package no index holds with its .deb SHA256 and layer is an
// error naming it.
func (l *Lock) Entries(indexes ...*index.Index) ([]index.Entry, error) {
	var out []index.Entry
	for _, p := range l.Packages {
		var found *index.Entry
		for _, ix := range indexes {
			if ix == nil {
				continue
			}
			for i := range ix.Packages {
				e := &ix.Packages[i]
				if e.Package == p.Name && e.Version == p.Version && e.Architecture == p.Architecture && e.DebSHA256 == p.DebSHA256 {
					found = e
					break
				}
			}
			if found != nil {
				break
			}
		}
		if found == nil {
			return nil, fmt.Errorf("locked %s %s %s (.deb sha256 %s) is in no index the store has (the lock's index %s, or the latest): mirror it again, or run deb2fs lock", p.Name, p.Version, p.Architecture, p.DebSHA256, l.Index)
		}
		if found.Layer.Digest != p.Layer {
			return nil, fmt.Errorf("locked %s %s %s: layer %s in the lock, %s in the index (another deb2fs layer format?): run deb2fs lock again", p.Name, p.Version, p.Architecture, p.Layer, found.Layer.Digest)
		}
		out = append(out, *found)
	}
	return out, nil
}
