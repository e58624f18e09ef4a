package archive

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive/archivetest"
)

// The hermetic tests build a small signed archive in a temporary directory
// and serve it on 127.0.0.1, with archivetest.

var (
	signTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // Releases are dated and signed then
	testNow  = time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
)

// testArchive is an archivetest archive with the apt source and client
// the tests use.
type testArchive struct {
	*archivetest.Archive
	t *testing.T
}

func newTestArchive(t *testing.T) *testArchive {
	t.Helper()
	return &testArchive{archivetest.New(t), t}
}

// source is the apt source for the test archive.
func (a *testArchive) source(suites ...string) aptsources.Source {
	return aptsources.Source{URI: a.URL, Suites: suites, Components: []string{"main"}, Architectures: []string{"amd64"}, SignedBy: a.Keyring, Origin: "test"}
}

// fileSource is the apt source for the test archive read as file://.
func (a *testArchive) fileSource(suites ...string) aptsources.Source {
	s := a.source(suites...)
	s.URI = "file://" + a.Root
	return s
}

func (a *testArchive) client(opts ...Option) *Client {
	return New(append([]Option{WithClock(func() time.Time { return testNow }), WithRetry(2, time.Millisecond)}, opts...)...)
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

// addSuite writes dists/SUITE with a main/binary-amd64 index of pkgs
// (Packages, .gz and .xz), and their pool files; its Release has a
// Version, a Description and an MD5Sum field, and is signed at signTime.
func (a *testArchive) addSuite(suite string, pkgs []testPkg, o suiteOpts) {
	a.t.Helper()
	if o.codename == "" {
		o.codename = suite
	}
	var idx bytes.Buffer
	for _, p := range pkgs {
		c := p.content()
		a.WriteFile(p.filename(), c)
		fmt.Fprintf(&idx, "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: Test <t@example.invalid>\n", p.name, p.version, p.arch)
		idx.WriteString(p.fields)
		fmt.Fprintf(&idx, "Filename: %s\nSize: %d\nMD5sum: 00000000000000000000000000000000\nSHA256: %s\n", p.filename(), len(c), archivetest.SHA256(c))
		fmt.Fprintf(&idx, "Description: %s\n a test package\n .\n with a long description\n\n", p.name)
	}
	var rel bytes.Buffer
	fmt.Fprintf(&rel, "Origin: Test\nLabel: Test\nSuite: %s\nVersion: 1.0\nCodename: %s\nDate: %s\n", suite, o.codename, signTime.Format(time.RFC1123))
	if !o.validUntil.IsZero() {
		fmt.Fprintf(&rel, "Valid-Until: %s\n", o.validUntil.Format(time.RFC1123))
	}
	if !o.noByHash {
		rel.WriteString("Acquire-By-Hash: yes\n")
	}
	rel.WriteString("No-Support-for-Architecture-all: Packages\nArchitectures: all amd64\nComponents: main\nDescription: deb2fs test suite\nMD5Sum:\n 00000000000000000000000000000000 0 main/Contents-amd64\n")
	a.Publish(archivetest.Suite{
		Name:    suite,
		Header:  rel.String(),
		Indexes: []archivetest.Index{{Path: "main/binary-amd64/Packages", Data: idx.Bytes(), Gzip: true, XZ: true}},
		ByHash:  !o.noByHash,
		Signers: o.signers, Time: signTime,
		Detached: o.detached, Unsigned: o.unsigned,
	})
}
