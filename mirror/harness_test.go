package mirror

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/archive/archivetest"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/store"
)

// The hermetic tests build a small signed archive of real (tiny) .debs in a
// temporary directory, signed by their own OpenPGP key, and serve it on
// 127.0.0.1, with archivetest.

var ctx = context.Background()

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

// testArchive is an archivetest archive publishing the suite "testing".
type testArchive struct {
	*archivetest.Archive
	t testing.TB
}

func newTestArchive(t testing.TB) *testArchive {
	t.Helper()
	return &testArchive{archivetest.New(t), t}
}

func countPrefix(reqs []string, prefix string) (n int) {
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (a *testArchive) source() aptsources.Source {
	return aptsources.Source{URI: a.URL, Suites: []string{"testing"}, Components: []string{"main"},
		Architectures: []string{"amd64"}, SignedBy: a.Keyring, Origin: "test"}
}

// suiteOpts varies how the suite is signed.
type suiteOpts struct {
	signer     *openpgp.Entity // default: the trusted key
	validUntil time.Time
	archs      []string // binary-ARCH indexes; default amd64
}

// publish writes the suite "testing" (codename "trixie") with pkgs: their
// .debs, main/binary-ARCH/Packages{,.gz} (no by-hash) and an InRelease
// clearsigned an hour ago.
func (a *testArchive) publish(pkgs []tpkg, o suiteOpts) {
	a.t.Helper()
	if o.archs == nil {
		o.archs = []string{"amd64"}
	}
	var indexes []archivetest.Index
	for _, arch := range o.archs {
		var idx bytes.Buffer
		for _, p := range pkgs {
			if p.arch != arch && p.arch != "all" {
				continue
			}
			deb := p.deb()
			a.WriteFile(p.filename(), deb)
			ctl := fixtures.Control(p.name, append([]string{"Version: " + p.version, "Architecture: " + p.arch}, p.fields...)...)
			idx.WriteString(ctl)
			fmt.Fprintf(&idx, "Filename: %s\nSize: %d\nSHA256: %s\n\n", p.filename(), len(deb), archivetest.SHA256(deb))
		}
		indexes = append(indexes, archivetest.Index{Path: "main/binary-" + arch + "/Packages", Data: idx.Bytes(), Gzip: true})
	}
	var rel bytes.Buffer
	signTime := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	fmt.Fprintf(&rel, "Origin: Test\nLabel: Test\nSuite: testing\nCodename: trixie\nDate: %s\n", signTime.Format(time.RFC1123))
	if !o.validUntil.IsZero() {
		fmt.Fprintf(&rel, "Valid-Until: %s\n", o.validUntil.UTC().Format(time.RFC1123))
	}
	fmt.Fprintf(&rel, "No-Support-for-Architecture-all: Packages\nArchitectures: all %s\nComponents: main\n", strings.Join(o.archs, " "))
	s := archivetest.Suite{Name: "testing", Header: rel.String(), Indexes: indexes, Time: signTime}
	if o.signer != nil {
		s.Signers = []*openpgp.Entity{o.signer}
	}
	a.Publish(s)
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
		Sources:  []aptsources.Source{a.source()},
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
