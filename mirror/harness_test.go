package mirror

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/store"
)

// The hermetic tests build a small signed archive of real (tiny) .debs in a
// temporary directory, signed by their own OpenPGP key, and serve it on
// 127.0.0.1.

var ctx = context.Background()

var (
	keysOnce       sync.Once
	trusted, rogue *openpgp.Entity
	keysErr        error
)

func testKeys(t testing.TB) (*openpgp.Entity, *openpgp.Entity) {
	t.Helper()
	keysOnce.Do(func() {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) }}
		if trusted, keysErr = openpgp.NewEntity("deb2fs mirror test archive", "", "archive@example.invalid", cfg); keysErr != nil {
			return
		}
		rogue, keysErr = openpgp.NewEntity("rogue", "", "rogue@example.invalid", cfg)
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return trusted, rogue
}

// tpkg is a package of the test archive; its .deb is built by fixtures.
type tpkg struct {
	name, version, arch string
	fields              []string // extra control fields
}

func (p tpkg) deb() []byte {
	doc := "./usr/share/doc/" + p.name + "/"
	return fixtures.Deb{
		Control: fixtures.Control(p.name, append([]string{"Version: " + p.version, "Architecture: " + p.arch}, p.fields...)...),
		Data: []fixtures.Entry{
			fixtures.Dir("./"), fixtures.Dir("./usr/"), fixtures.Dir("./usr/share/"), fixtures.Dir("./usr/share/doc/"), fixtures.Dir(doc),
			fixtures.File(doc+"README", 0o644, p.name+" "+p.version+" "+p.arch+"\n"),
		},
		DataCompression: "gz", ControlCompression: "gz",
	}.Bytes()
}

func (p tpkg) filename() string {
	v := p.version
	if i := strings.IndexByte(v, ':'); i >= 0 {
		v = v[i+1:]
	}
	return fmt.Sprintf("pool/main/%c/%s/%s_%s_%s.deb", p.name[0], p.name, p.name, v, p.arch)
}

// layerDigest is what convert makes of p's .deb: what the index must list.
func (p tpkg) layerDigest(t testing.TB) string {
	t.Helper()
	var buf bytes.Buffer
	l, err := convert.Convert(ctx, bytes.NewReader(p.deb()), &buf, convert.Options{Compression: convert.Gzip})
	if err != nil {
		t.Fatal(err)
	}
	return l.Digest.String()
}

// basePkgs: the closure of hello is base-files (essential), hello,
// hello-data (all) and libc6; unrelated, which hello only Suggests, is
// outside it.
var basePkgs = []tpkg{
	{"base-files", "12.4", "amd64", []string{"Essential: yes", "Priority: required", "Multi-Arch: foreign"}},
	{"hello", "2.10-1", "amd64", []string{"Depends: libc6 (>= 2.36), hello-data (= 2.10-1)", "Suggests: unrelated", "Installed-Size: 280", "Section: devel"}},
	{"hello-data", "2.10-1", "all", []string{"Multi-Arch: foreign"}},
	{"libc6", "2.36-9", "amd64", []string{"Multi-Arch: same", "Provides: libc6-x", "Protected: yes"}},
	{"unrelated", "1.0", "amd64", nil},
}

// testArchive is an archive directory served over HTTP.
type testArchive struct {
	t       testing.TB
	root    string
	keyring string
	srv     *httptest.Server

	mu       sync.Mutex
	requests []string
	hook     func(w http.ResponseWriter, r *http.Request) bool // true: handled
}

func newTestArchive(t testing.TB) *testArchive {
	t.Helper()
	key, _ := testKeys(t)
	dir := t.TempDir()
	a := &testArchive{t: t, root: filepath.Join(dir, "archive"), keyring: filepath.Join(dir, "test-keyring.gpg")}
	var kr bytes.Buffer
	if err := key.Serialize(&kr); err != nil {
		t.Fatal(err)
	}
	a.write(a.keyring, kr.Bytes())
	fs := http.FileServer(http.Dir(a.root))
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.requests = append(a.requests, r.URL.Path)
		h := a.hook
		a.mu.Unlock()
		if h != nil && h(w, r) {
			return
		}
		fs.ServeHTTP(w, r)
	}))
	t.Cleanup(a.srv.Close)
	return a
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

func (a *testArchive) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	a.mu.Lock()
	a.hook = h
	a.mu.Unlock()
}

// debRequests returns the pool paths requested since the last call.
func (a *testArchive) takeRequests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.requests
	a.requests = nil
	return r
}

func countPrefix(reqs []string, prefix string) (n int) {
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (a *testArchive) source() archive.Source {
	return archive.Source{URI: a.srv.URL, Suites: []string{"testing"}, Components: []string{"main"},
		Architectures: []string{"amd64"}, SignedBy: a.keyring, Origin: "test"}
}

// suiteOpts varies how the suite is signed.
type suiteOpts struct {
	signer     *openpgp.Entity // default: the trusted key
	validUntil time.Time
	archs      []string // binary-ARCH indexes; default amd64
}

// publish writes the suite "testing" (codename "trixie") with pkgs: their
// .debs, main/binary-amd64/Packages{,.gz} and a clearsigned InRelease.
func (a *testArchive) publish(pkgs []tpkg, o suiteOpts) {
	a.t.Helper()
	if o.signer == nil {
		o.signer, _ = testKeys(a.t)
	}
	if o.archs == nil {
		o.archs = []string{"amd64"}
	}
	dist := filepath.Join(a.root, "dists", "testing")
	files := map[string][]byte{}
	var names []string
	for _, arch := range o.archs {
		var idx bytes.Buffer
		for _, p := range pkgs {
			if p.arch != arch && p.arch != "all" {
				continue
			}
			deb := p.deb()
			a.write(filepath.Join(a.root, p.filename()), deb)
			ctl := fixtures.Control(p.name, append([]string{"Version: " + p.version, "Architecture: " + p.arch}, p.fields...)...)
			idx.WriteString(ctl)
			fmt.Fprintf(&idx, "Filename: %s\nSize: %d\nSHA256: %s\n\n", p.filename(), len(deb), sha256hex(deb))
		}
		var gz bytes.Buffer
		gw := gzip.NewWriter(&gz)
		gw.Write(idx.Bytes())
		gw.Close()
		dir := "main/binary-" + arch + "/"
		files[dir+"Packages"], files[dir+"Packages.gz"] = idx.Bytes(), gz.Bytes()
		names = append(names, dir+"Packages", dir+"Packages.gz")
	}
	var rel bytes.Buffer
	signTime := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	fmt.Fprintf(&rel, "Origin: Test\nLabel: Test\nSuite: testing\nCodename: trixie\nDate: %s\n", signTime.Format(time.RFC1123))
	if !o.validUntil.IsZero() {
		fmt.Fprintf(&rel, "Valid-Until: %s\n", o.validUntil.UTC().Format(time.RFC1123))
	}
	fmt.Fprintf(&rel, "No-Support-for-Architecture-all: Packages\nArchitectures: all %s\nComponents: main\nSHA256:\n", strings.Join(o.archs, " "))
	for _, name := range names {
		a.write(filepath.Join(dist, name), files[name])
		fmt.Fprintf(&rel, " %s %8d %s\n", sha256hex(files[name]), len(files[name]), name)
	}
	var out bytes.Buffer
	w, err := clearsign.Encode(&out, o.signer.PrivateKey, &packet.Config{Time: func() time.Time { return signTime }})
	if err != nil {
		a.t.Fatal(err)
	}
	w.Write(rel.Bytes())
	if err := w.Close(); err != nil {
		a.t.Fatal(err)
	}
	a.write(filepath.Join(dist, "InRelease"), out.Bytes())
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// clock returns a clock that advances a minute per call, so every run's
// dated ref differs.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Minute)
		return t
	}
}

// options are the options of a hermetic run of pkgs' closure into st.
func (a *testArchive) options(st *store.Store, now func() time.Time, pkgs ...string) Options {
	return Options{
		Store:    st,
		Client:   archive.New(archive.WithRetry(2, time.Millisecond)),
		Sources:  []archive.Source{a.source()},
		Packages: pkgs,
		All:      len(pkgs) == 0,
		Jobs:     2,
		Now:      now,
	}
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}
