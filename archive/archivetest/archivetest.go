// Package archivetest serves signed Debian archives for tests: a
// directory with dists/ and pool/ in a temporary directory, served on
// 127.0.0.1, its InRelease (or Release and Release.gpg) signed by an
// OpenPGP key of its own, with a keyring file apt's Signed-By can name.
// The caller writes the Packages stanzas and the Release fields; the kit
// writes the files, their compressed and by-hash copies, the checksums
// and the signature, and can record or intercept requests.
package archivetest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ulikunitz/xz"
)

// KeyTime is when the test keys were made.
var KeyTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	keysOnce       sync.Once
	trusted, rogue *openpgp.Entity
	keysErr        error
)

// Keys returns two EdDSA keys, the same for every archive of the test
// binary: the one archives are signed with and their keyring holds, and a
// rogue one no keyring holds.
func Keys(t testing.TB) (trustedKey, rogueKey *openpgp.Entity) {
	t.Helper()
	keysOnce.Do(func() {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return KeyTime }}
		if trusted, keysErr = openpgp.NewEntity("deb2fs test archive", "", "archive@example.invalid", cfg); keysErr != nil {
			return
		}
		rogue, keysErr = openpgp.NewEntity("rogue", "", "rogue@example.invalid", cfg)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return trusted, rogue
}

// Archive is an archive directory served over HTTP.
type Archive struct {
	// Root is the archive's base directory (holding dists/ and pool/);
	// Keyring a keyring file with the trusted key; URL the server's base.
	Root, Keyring, URL string

	t        testing.TB
	mu       sync.Mutex
	requests []string
	serve    map[string]http.HandlerFunc
	hook     func(w http.ResponseWriter, r *http.Request) bool
}

// New makes an empty archive and serves it until the test ends.
func New(t testing.TB) *Archive {
	t.Helper()
	key, _ := Keys(t)
	dir := t.TempDir()
	a := &Archive{t: t, Root: filepath.Join(dir, "archive"), Keyring: filepath.Join(dir, "test-keyring.gpg")}
	var kr bytes.Buffer
	if err := key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	a.WriteFile(a.Keyring, kr.Bytes())
	fs := http.FileServer(http.Dir(a.Root))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.URL.Path)
		s, h := a.serve[r.URL.Path], a.hook
		a.mu.Unlock()
		if s != nil {
			s(w, r)
			return
		}
		if h != nil && h(w, r) {
			return
		}
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	return a
}

// WriteFile writes a file (an absolute path, or one relative to Root),
// making its directories.
func (a *Archive) WriteFile(path string, data []byte) {
	a.t.Helper()
	if !filepath.IsAbs(path) {
		path = filepath.Join(a.Root, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		a.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		a.t.Fatal(err)
	}
}

// Path is the absolute path of a file of the archive (rel relative to Root).
func (a *Archive) Path(rel string) string { return filepath.Join(a.Root, rel) }

// ReadFile returns a file of the archive (rel relative to Root).
func (a *Archive) ReadFile(rel string) []byte {
	a.t.Helper()
	b, err := os.ReadFile(a.Path(rel))
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}

// Serve answers the requests for one path (as requested, /dists/…) with
// h instead of the archive's file; it comes before the hook.
func (a *Archive) Serve(path string, h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.serve == nil {
		a.serve = map[string]http.HandlerFunc{}
	}
	a.serve[path] = h
}

// SetHook intercepts requests: a hook returning true has answered.
func (a *Archive) SetHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.hook = h
}

// Requests returns the paths requested so far, in order.
func (a *Archive) Requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.requests...)
}

// TakeRequests returns the paths requested so far and forgets them.
func (a *Archive) TakeRequests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.requests
	a.requests = nil
	return r
}

// SHA256 is the hex SHA256 of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Index is one Packages index of a suite: its path under dists/SUITE
// (main/binary-amd64/Packages) and its stanzas.
type Index struct {
	Path string
	Data []byte
	// Gzip and XZ add Packages.gz and Packages.xz.
	Gzip, XZ bool
}

// Suite is what Publish writes under dists/NAME.
type Suite struct {
	Name string
	// Header is the Release's fields before the SHA256 field ("Origin: …\n"),
	// each line ending in a newline; it may hold other checksum fields
	// (MD5Sum), which Publish leaves as they are.
	Header string
	// Indexes are listed in the Release's SHA256 field in order, each
	// followed by its compressed copies.
	Indexes []Index
	// ByHash writes every index also under by-hash/SHA256/HEX.
	ByHash bool
	// Signers sign the Release (default: the trusted key); Time is the
	// signature's time (default: now, less an hour).
	Signers []*openpgp.Entity
	Time    time.Time
	// Detached writes Release and Release.gpg instead of InRelease;
	// Unsigned writes Release alone.
	Detached, Unsigned bool
}

// Publish writes the suite's indexes and its signed Release.
func (a *Archive) Publish(s Suite) {
	a.t.Helper()
	var rel bytes.Buffer
	rel.WriteString(s.Header)
	rel.WriteString("SHA256:\n")
	dist := filepath.Join("dists", s.Name)
	for _, ix := range s.Indexes {
		files := []struct {
			name string
			data []byte
		}{{ix.Path, ix.Data}}
		if ix.Gzip {
			var gz bytes.Buffer
			gw := gzip.NewWriter(&gz)
			gw.Write(ix.Data)
			gw.Close()
			files = append(files, struct {
				name string
				data []byte
			}{ix.Path + ".gz", gz.Bytes()})
		}
		if ix.XZ {
			var xb bytes.Buffer
			xw, err := xz.NewWriter(&xb)
			if err != nil {
				a.t.Fatal(err)
			}
			xw.Write(ix.Data)
			xw.Close()
			files = append(files, struct {
				name string
				data []byte
			}{ix.Path + ".xz", xb.Bytes()})
		}
		for _, f := range files {
			a.WriteFile(filepath.Join(dist, f.name), f.data)
			if s.ByHash {
				a.WriteFile(filepath.Join(dist, filepath.Dir(f.name), "by-hash", "SHA256", SHA256(f.data)), f.data)
			}
			fmt.Fprintf(&rel, " %s %8d %s\n", SHA256(f.data), len(f.data), f.name)
		}
	}
	a.SignRelease(s, rel.Bytes())
}

// SignRelease writes the Release text rel of suite s, signed as s says.
func (a *Archive) SignRelease(s Suite, rel []byte) {
	a.t.Helper()
	if s.Signers == nil {
		key, _ := Keys(a.t)
		s.Signers = []*openpgp.Entity{key}
	}
	when := s.Time
	if when.IsZero() {
		when = time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	}
	dist := filepath.Join("dists", s.Name)
	cfg := &packet.Config{Time: func() time.Time { return when }}
	switch {
	case s.Unsigned:
		a.WriteFile(filepath.Join(dist, "Release"), rel)
	case s.Detached:
		a.WriteFile(filepath.Join(dist, "Release"), rel)
		var sig bytes.Buffer
		aw, _ := armor.Encode(&sig, "PGP SIGNATURE", nil)
		for _, k := range s.Signers {
			if err := openpgp.DetachSign(aw, k, bytes.NewReader(rel), cfg); err != nil {
				a.t.Fatal(err)
			}
		}
		aw.Close()
		a.WriteFile(filepath.Join(dist, "Release.gpg"), sig.Bytes())
	default:
		var out bytes.Buffer
		var keys []*packet.PrivateKey
		for _, k := range s.Signers {
			keys = append(keys, k.PrivateKey)
		}
		w, err := clearsign.EncodeMulti(&out, keys, cfg)
		if err != nil {
			a.t.Fatal(err)
		}
		w.Write(rel)
		if err := w.Close(); err != nil {
			a.t.Fatal(err)
		}
		a.WriteFile(filepath.Join(dist, "InRelease"), out.Bytes())
	}
}
