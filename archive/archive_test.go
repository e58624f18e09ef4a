package archive

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive/archivetest"
)

var ctx = context.Background()

var basePkgs = []testPkg{
	{name: "hello", version: "2.10-3", arch: "amd64", fields: "Depends: libc6 (>= 2.34)\nInstalled-Size: 280\nPriority: optional\nSection: devel\n"},
	{name: "base-files", version: "12.4", arch: "amd64", fields: "Essential: yes\nPriority: required\nMulti-Arch: foreign\nPre-Depends: awk\nProvides: base\n"},
	{name: "tzdata", version: "2024a-0", arch: "all", fields: "Depends: debconf (>= 0.5) | debconf-2.0,\n         foo\n"},
}

// wantErr fails unless err is non-nil, matches ErrVerification as
// verification says, and mentions every part.
func wantErr(t *testing.T, err error, verification bool, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one mentioning %q", parts)
	}
	if got := errors.Is(err, ErrVerification); got != verification {
		t.Errorf("errors.Is(err, ErrVerification) = %v, want %v; err: %v", got, verification, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func keyID(e *openpgp.Entity) string { return strings.ToUpper(e.PrimaryKey.KeyIdString()) }

func fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

func TestGoodPath(t *testing.T) {
	key, _ := archivetest.Keys(t)
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{codename: "trixie", validUntil: testNow.Add(24 * time.Hour)})
	c := a.client()

	rel, err := c.Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Codename != "trixie" || rel.Suite != "stable" || rel.Origin != "Test" || !rel.AcquireByHash ||
		!rel.Date.Equal(signTime) || !rel.ValidUntil.Equal(testNow.Add(24*time.Hour)) || rel.Components[0] != "main" {
		t.Errorf("Release fields: %+v", rel)
	}
	if rel.Key() != a.URL+" trixie" {
		t.Errorf("Key() = %q", rel.Key())
	}
	if s := rel.Signer(); s.Fingerprint != fingerprint(key) || s.Identity == "" {
		t.Errorf("signer %+v, want fingerprint %s", s, fingerprint(key))
	}
	if len(rel.Files) != 3 {
		t.Errorf("Files: %v", rel.Files)
	}

	for _, ext := range []string{".gz", ".xz", ""} {
		ix, err := a.client(WithCompressions(ext)).Packages(ctx, rel, "main", "amd64")
		if err != nil {
			t.Fatalf("%q: %v", ext, err)
		}
		if !strings.Contains(ix.URL, "/by-hash/SHA256/") {
			t.Errorf("%q: fetched %s, want the by-hash path", ext, ix.URL)
		}
		if len(ix.Packages) != 3 {
			t.Fatalf("%q: %d packages", ext, len(ix.Packages))
		}
	}
	ix, err := c.Packages(ctx, rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	hello, bf, tz := &ix.Packages[0], &ix.Packages[1], &ix.Packages[2]
	if hello.Name != "hello" || hello.Version != "2.10-3" || hello.Depends != "libc6 (>= 2.34)" || hello.InstalledSize != 280 ||
		hello.Priority != "optional" || hello.Section != "devel" || hello.Release != rel || hello.Size != int64(len(basePkgs[0].content())) {
		t.Errorf("hello: %+v", hello)
	}
	if !bf.Essential || bf.MultiArch != "foreign" || bf.PreDepends != "awk" || bf.Provides != "base" || hello.Essential {
		t.Errorf("base-files: %+v", bf)
	}
	if tz.Depends != "debconf (>= 0.5) | debconf-2.0, foo" || tz.Architecture != "all" {
		t.Errorf("tzdata Depends %q (continuation lines must fold)", tz.Depends)
	}

	dest := filepath.Join(t.TempDir(), "hello.deb")
	if err := c.Fetch(ctx, hello, dest); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dest)
	if string(got) != string(basePkgs[0].content()) {
		t.Errorf("fetched %q", got)
	}
	assertOnly(t, filepath.Dir(dest), "hello.deb")
}

// assertOnly fails unless dir holds exactly names (no temporary files).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func TestBadSignature(t *testing.T) {
	key, _ := archivetest.Keys(t)
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	// Change the signed text after signing.
	in := a.ReadFile("dists/stable/InRelease")
	a.WriteFile("dists/stable/InRelease", []byte(strings.Replace(string(in), "Origin: Test", "Origin: Evil", 1)))
	_, err := a.client().Release(ctx, a.source("stable"), "stable")
	wantErr(t, err, true, a.URL+"/dists/stable/InRelease", keyID(key), a.Keyring)
	var se *SignatureError
	if !errors.As(err, &se) {
		t.Errorf("%T, want *SignatureError", err)
	}
}

func TestNotClearsigned(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{unsigned: true})
	a.WriteFile("dists/stable/InRelease", a.ReadFile("dists/stable/Release"))
	_, err := a.client().Release(ctx, a.source("stable"), "stable")
	wantErr(t, err, true, "InRelease", "not a clearsigned")
}

func TestUnknownKey(t *testing.T) {
	_, rogue := archivetest.Keys(t)
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{signers: []*openpgp.Entity{rogue}})
	_, err := a.client().Release(ctx, a.source("stable"), "stable")
	wantErr(t, err, true, "InRelease", keyID(rogue), "not in keyring", a.Keyring)
}

func TestAnySignatureSuffices(t *testing.T) {
	key, rogue := archivetest.Keys(t)
	a := newTestArchive(t)
	// The unknown key signs first, as the archive's newer key would.
	a.addSuite("stable", basePkgs, suiteOpts{signers: []*openpgp.Entity{rogue, key}})
	rel, err := a.client().Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	if len(rel.Signers) != 1 || rel.Signers[0].Fingerprint != fingerprint(key) {
		t.Errorf("signers %+v", rel.Signers)
	}
}

func TestInlineAndFingerprintSignedBy(t *testing.T) {
	key, rogue := archivetest.Keys(t)
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	var sb strings.Builder
	w, _ := armorWriter(&sb)
	key.Serialize(w)
	w.Close()
	src := a.source("stable")
	src.SignedBy = sb.String()
	if _, err := a.client().Release(ctx, src, "stable"); err != nil {
		t.Fatalf("inline key: %v", err)
	}
	// A fingerprint selects keys from the default keyring and trusted dir.
	dir := t.TempDir()
	c := a.client(WithDefaultKeyring(a.Keyring, dir))
	src.SignedBy = fingerprint(key)
	if _, err := c.Release(ctx, src, "stable"); err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	src.SignedBy = fingerprint(rogue)
	_, err := c.Release(ctx, src, "stable")
	if err == nil || !strings.Contains(err.Error(), fingerprint(rogue)) {
		t.Errorf("fingerprint of a key not in the keyrings: %v", err)
	}
}

func TestDetachedRelease(t *testing.T) {
	key, _ := archivetest.Keys(t)
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{detached: true})
	rel, err := a.client().Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(rel.URL, "/Release") || rel.Signer().Fingerprint != fingerprint(key) {
		t.Errorf("URL %s signer %+v", rel.URL, rel.Signer())
	}
	// Tampered Release under a good Release.gpg.
	r := a.ReadFile("dists/stable/Release")
	a.WriteFile("dists/stable/Release", append(r, "Extra: field\n"...))
	_, err = a.client().Release(ctx, a.source("stable"), "stable")
	wantErr(t, err, true, "Release.gpg", keyID(key))
}

func TestUnsignedRelease(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{unsigned: true})
	_, err := a.client().Release(ctx, a.source("stable"), "stable")
	wantErr(t, err, true, "Release.gpg", "unsigned")
}

func TestExpiredRelease(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{validUntil: testNow.Add(-time.Hour)})
	_, err := a.client().Release(ctx, a.source("stable"), "stable")
	wantErr(t, err, true, "InRelease", "expired", "Valid-Until")
	var ee *ExpiredError
	if !errors.As(err, &ee) || !ee.ValidUntil.Equal(testNow.Add(-time.Hour)) {
		t.Errorf("%#v", err)
	}
	// The same Release with the clock two hours earlier is valid.
	early := a.client(WithClock(func() time.Time { return testNow.Add(-2 * time.Hour) }))
	if _, err := early.Release(ctx, a.source("stable"), "stable"); err != nil {
		t.Errorf("before Valid-Until: %v", err)
	}
	// check-valid-until=no
	src := a.source("stable")
	src.NoValidUntil = true
	if _, err := a.client().Release(ctx, src, "stable"); err != nil {
		t.Errorf("with NoValidUntil: %v", err)
	}
}

func TestReplayedSuite(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	// An attacker serves stable's (validly signed) InRelease as security's.
	a.WriteFile("dists/stable-security/InRelease", a.ReadFile("dists/stable/InRelease"))
	_, err := a.client().Release(ctx, a.source("stable-security"), "stable-security")
	wantErr(t, err, true, "stable-security/InRelease", `not "stable-security"`)
}

func TestWrongPackagesHash(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{noByHash: true})
	c := a.client()
	rel, err := c.Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	// Same size, other bytes.
	gz := a.ReadFile("dists/stable/main/binary-amd64/Packages.gz")
	want := archivetest.SHA256(gz)
	gz[len(gz)-1] ^= 0xff
	a.WriteFile("dists/stable/main/binary-amd64/Packages.gz", gz)
	_, err = c.Packages(ctx, rel, "main", "amd64")
	wantErr(t, err, true, a.URL+"/dists/stable/main/binary-amd64/Packages.gz", "sha256 mismatch", want, archivetest.SHA256(gz))
	// Longer than the Release says.
	a.WriteFile("dists/stable/main/binary-amd64/Packages.gz", append(gz, 0))
	_, err = c.Packages(ctx, rel, "main", "amd64")
	wantErr(t, err, true, "Packages.gz", "more than the")
}

func TestByHashFallback(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	os.RemoveAll(a.Path("dists/stable/main/binary-amd64/by-hash"))
	c := a.client()
	rel, err := c.Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := c.Packages(ctx, rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ix.URL, "/main/binary-amd64/Packages.gz") {
		t.Errorf("URL %s", ix.URL)
	}
	if !slices.Contains(a.Requests(), "/dists/stable/main/binary-amd64/by-hash/SHA256/"+rel.Files["main/binary-amd64/Packages.gz"].SHA256) {
		t.Error("by-hash path was not tried first")
	}
	// No index at all: a not-found error naming what was tried.
	os.RemoveAll(a.Path("dists/stable/main/binary-amd64"))
	_, err = c.Packages(ctx, rel, "main", "amd64")
	wantErr(t, err, false, "Packages.gz", "Packages.xz")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("not ErrNotFound: %v", err)
	}
	_, err = c.Packages(ctx, rel, "contrib", "amd64")
	wantErr(t, err, false, "InRelease", "lists no contrib/binary-amd64/Packages")
}

func TestDecompressedHashChecked(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{noByHash: true})
	c := a.client()
	rel, err := c.Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	// A Release whose uncompressed entry disagrees with the compressed file.
	fh := rel.Files["main/binary-amd64/Packages"]
	fh.SHA256 = strings.Repeat("0", 64)
	rel.Files["main/binary-amd64/Packages"] = fh
	_, err = c.Packages(ctx, rel, "main", "amd64")
	wantErr(t, err, true, "Packages.gz", "decompressed sha256 mismatch")
}

func fetchOne(t *testing.T, a *testArchive, name string) (*Client, *Package) {
	t.Helper()
	c := a.client()
	rel, err := c.Release(ctx, a.source("stable"), "stable")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := c.Packages(ctx, rel, "main", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ix.Packages {
		if ix.Packages[i].Name == name {
			return c, &ix.Packages[i]
		}
	}
	t.Fatalf("no %s", name)
	return nil, nil
}

func TestWrongDebHash(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	c, p := fetchOne(t, a, "hello")
	deb := a.ReadFile(p.Filename)
	deb[0] ^= 1
	a.WriteFile(p.Filename, deb)
	dir := t.TempDir()
	err := c.Fetch(ctx, p, filepath.Join(dir, "hello.deb"))
	wantErr(t, err, true, "hello 2.10-3 amd64", a.URL+"/"+p.Filename, "sha256 mismatch", p.SHA256, archivetest.SHA256(deb))
	assertOnly(t, dir)
}

func TestTruncatedDeb(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	c, p := fetchOne(t, a, "hello")
	dir := t.TempDir()
	dest := filepath.Join(dir, "hello.deb")

	// A shorter file on the server.
	deb := a.ReadFile(p.Filename)
	a.WriteFile(p.Filename, deb[:len(deb)-5])
	err := c.Fetch(ctx, p, dest)
	wantErr(t, err, true, "hello 2.10-3 amd64", p.Filename, "size mismatch")
	assertOnly(t, dir)

	// A connection that drops mid-body: retried, then refused.
	a.WriteFile(p.Filename, deb)
	calls := 0
	a.Serve("/"+p.Filename, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Length", "100000")
		w.Write(deb[:10])
	})
	p2 := *p
	p2.Size = 100000
	err = c.Fetch(ctx, &p2, dest)
	wantErr(t, err, false, "hello 2.10-3 amd64", p.Filename, "truncated after 10 of 100000 bytes")
	if calls != 2 {
		t.Errorf("%d attempts, want 2 (one retry)", calls)
	}
	assertOnly(t, dir)
}

func TestMissing(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	c, p := fetchOne(t, a, "hello")
	os.Remove(a.Path(p.Filename))
	dir := t.TempDir()
	err := c.Fetch(ctx, p, filepath.Join(dir, "hello.deb"))
	wantErr(t, err, false, "hello 2.10-3 amd64", a.URL+"/"+p.Filename, "404")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("not ErrNotFound: %v", err)
	}
	assertOnly(t, dir)
	_, err = c.Release(ctx, a.source("nosuch"), "nosuch")
	wantErr(t, err, false, a.URL+"/dists/nosuch/Release", "404")
}

func TestTransientRetried(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	calls := 0
	fs := http.FileServer(http.Dir(a.Root))
	a.Serve("/dists/stable/InRelease", func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fs.ServeHTTP(w, r)
	})
	if _, err := a.client().Release(ctx, a.source("stable"), "stable"); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("%d calls", calls)
	}
}

func TestStall(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	c, p := fetchOne(t, a, "hello")
	release := make(chan struct{})
	defer close(release)
	a.Serve("/"+p.Filename, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(p.Size, 10))
		w.Write([]byte("!<arch>"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c.stall = 100 * time.Millisecond
	err := c.Fetch(ctx, p, filepath.Join(t.TempDir(), "x.deb"))
	wantErr(t, err, false, "hello", "stall")
}

func TestConcurrentUse(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("stable", basePkgs, suiteOpts{})
	a.addSuite("stable-updates", basePkgs[:1], suiteOpts{})
	c := a.client()
	dir := t.TempDir()
	errs := make(chan error, 16)
	for i := range 4 {
		go func() {
			snap, err := c.Load(ctx, []aptsources.Source{a.source("stable", "stable-updates")}, true)
			if err != nil {
				errs <- err
				return
			}
			m, err := snap.Merge()
			if err != nil {
				errs <- err
				return
			}
			for _, p := range m {
				if err := c.Fetch(ctx, p, filepath.Join(dir, strconv.Itoa(i)+"-"+p.Name+".deb")); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 4*len(basePkgs) {
		t.Errorf("%d files", len(ents))
	}
}
