package archive

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ulikunitz/xz"
)

// The hermetic tests build a small signed archive in a temporary directory
// and serve it on 127.0.0.1.

var (
	keyTime  = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // keys are created then
	signTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // Releases are dated and signed then
	testNow  = time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
)

var (
	keysOnce       sync.Once
	trusted, rogue *openpgp.Entity
	keysErr        error
)

// testKeys returns two EdDSA keys: one the test keyring trusts, one it does not.
func testKeys(t *testing.T) (*openpgp.Entity, *openpgp.Entity) {
	t.Helper()
	keysOnce.Do(func() {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return keyTime }}
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

// testArchive is an archive directory served over HTTP.
type testArchive struct {
	t       *testing.T
	root    string // the archive base directory
	keyring string // a keyring file holding the trusted key
	srv     *httptest.Server

	mu       sync.Mutex
	requests []string                    // paths requested
	override map[string]http.HandlerFunc // per-path fault injection
}

func newTestArchive(t *testing.T) *testArchive {
	t.Helper()
	key, _ := testKeys(t)
	dir := t.TempDir()
	a := &testArchive{t: t, root: filepath.Join(dir, "archive"), keyring: filepath.Join(dir, "test-keyring.gpg"), override: map[string]http.HandlerFunc{}}
	var kr bytes.Buffer
	if err := key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	a.write(a.keyring, kr.Bytes())
	fs := http.FileServer(http.Dir(a.root))
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.URL.Path)
		h := a.override[r.URL.Path]
		a.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

// source is the apt source for the test archive.
func (a *testArchive) source(suites ...string) Source {
	return Source{URI: a.srv.URL, Suites: suites, Components: []string{"main"}, Architectures: []string{"amd64"}, SignedBy: a.keyring, Origin: "test"}
}

// fileSource is the apt source for the test archive read as file://.
func (a *testArchive) fileSource(suites ...string) Source {
	s := a.source(suites...)
	s.URI = "file://" + a.root
	return s
}

func (a *testArchive) client(opts ...Option) *Client {
	return New(append([]Option{WithClock(func() time.Time { return testNow }), WithRetry(2, time.Millisecond)}, opts...)...)
}

func (a *testArchive) write(path string, data []byte) {
	a.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		a.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		a.t.Fatal(err)
	}
}

func (a *testArchive) requested(path string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range a.requests {
		if r == path {
			return true
		}
	}
	return false
}

func (a *testArchive) serve(path string, h http.HandlerFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.override[path] = h
}

// testPkg is a package of a test suite; its .deb is a few stand-in bytes.
type testPkg struct {
	name, version, arch string
	fields              string // extra stanza lines
	path                string // Filename, when not the pool path made from the name
}

func (p testPkg) filename() string {
	if p.path != "" {
		return p.path
	}
	v := p.version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return fmt.Sprintf("pool/main/%c/%s/%s_%s_%s.deb", p.name[0], p.name, p.name, v, p.arch)
}

func (p testPkg) content() []byte {
	return []byte(fmt.Sprintf("!<arch>\nstand-in .deb for %s %s %s\n", p.name, p.version, p.arch))
}

// suiteOpts varies how a suite is published.
type suiteOpts struct {
	codename   string            // default: the suite name
	validUntil time.Time         // zero: no Valid-Until
	signers    []*openpgp.Entity // default: the trusted key
	noByHash   bool              // no Acquire-By-Hash, no by-hash files
	detached   bool              // Release + Release.gpg, no InRelease
	unsigned   bool              // Release only
}

// addSuite writes dists/SUITE with a main/binary-amd64 index of pkgs, and
// their pool files.
func (a *testArchive) addSuite(suite string, pkgs []testPkg, o suiteOpts) {
	a.t.Helper()
	if o.codename == "" {
		o.codename = suite
	}
	if o.signers == nil {
		key, _ := testKeys(a.t)
		o.signers = []*openpgp.Entity{key}
	}
	var idx bytes.Buffer
	for _, p := range pkgs {
		c := p.content()
		a.write(filepath.Join(a.root, p.filename()), c)
		fmt.Fprintf(&idx, "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <t@example.invalid>\n", p.name, p.version, p.arch)
		idx.WriteString(p.fields)
		fmt.Fprintf(&idx, "Filename: %s\nSize: %d\nMD5sum: 00000000000000000000000000000000\nSHA256: %s\n", p.filename(), len(c), sha256hex(c))
		fmt.Fprintf(&idx, "Description: %s\n a test package\n .\n with a long description\n\n", p.name)
	}
	plain := idx.Bytes()
	var gz, xzb bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	xw, _ := xz.NewWriter(&xzb)
	xw.Write(plain)
	xw.Close()
	dist := filepath.Join(a.root, "dists", suite)
	files := map[string][]byte{
		"main/binary-amd64/Packages":    plain,
		"main/binary-amd64/Packages.gz": gz.Bytes(),
		"main/binary-amd64/Packages.xz": xzb.Bytes(),
	}
	var rel bytes.Buffer
	fmt.Fprintf(&rel, "Origin: Test\nLabel: Test\nSuite: %s\nVersion: 1.0\nCodename: %s\nDate: %s\n", suite, o.codename, signTime.Format(time.RFC1123))
	if !o.validUntil.IsZero() {
		fmt.Fprintf(&rel, "Valid-Until: %s\n", o.validUntil.Format(time.RFC1123))
	}
	if !o.noByHash {
		rel.WriteString("Acquire-By-Hash: yes\n")
	}
	rel.WriteString("No-Support-for-Architecture-all: Packages\nArchitectures: all amd64\nComponents: main\nDescription: deb2fs test suite\nMD5Sum:\n 00000000000000000000000000000000 0 main/Contents-amd64\nSHA256:\n")
	for _, name := range []string{"main/binary-amd64/Packages", "main/binary-amd64/Packages.gz", "main/binary-amd64/Packages.xz"} {
		d := files[name]
		a.write(filepath.Join(dist, name), d)
		if !o.noByHash {
			a.write(filepath.Join(dist, "main/binary-amd64/by-hash/SHA256", sha256hex(d)), d)
		}
		fmt.Fprintf(&rel, " %s %8d %s\n", sha256hex(d), len(d), name)
	}
	a.writeRelease(suite, rel.Bytes(), o)
}

// writeRelease signs and writes a Release text for suite.
func (a *testArchive) writeRelease(suite string, rel []byte, o suiteOpts) {
	a.t.Helper()
	if o.signers == nil {
		key, _ := testKeys(a.t)
		o.signers = []*openpgp.Entity{key}
	}
	dist := filepath.Join(a.root, "dists", suite)
	cfg := &packet.Config{Time: func() time.Time { return signTime }}
	switch {
	case o.unsigned:
		a.write(filepath.Join(dist, "Release"), rel)
	case o.detached:
		a.write(filepath.Join(dist, "Release"), rel)
		var sig bytes.Buffer
		aw, _ := armor.Encode(&sig, "PGP SIGNATURE", nil)
		for _, s := range o.signers {
			if err := openpgp.DetachSign(aw, s, bytes.NewReader(rel), cfg); err != nil {
				a.t.Fatal(err)
			}
		}
		aw.Close()
		a.write(filepath.Join(dist, "Release.gpg"), sig.Bytes())
	default:
		var out bytes.Buffer
		var keys []*packet.PrivateKey
		for _, s := range o.signers {
			keys = append(keys, s.PrivateKey)
		}
		w, err := clearsign.EncodeMulti(&out, keys, cfg)
		if err != nil {
			a.t.Fatal(err)
		}
		w.Write(rel)
		if err := w.Close(); err != nil {
			a.t.Fatal(err)
		}
		a.write(filepath.Join(dist, "InRelease"), out.Bytes())
	}
}

// path returns the absolute path of a file of the archive.
func (a *testArchive) path(rel string) string { return filepath.Join(a.root, rel) }

func (a *testArchive) read(rel string) []byte {
	a.t.Helper()
	b, err := os.ReadFile(a.path(rel))
	if err != nil {
		a.t.Fatal(err)
	}
	return b
}
