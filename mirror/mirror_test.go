package mirror

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/archive/archivetest"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// withVersion returns pkgs with name's version (and extra fields) changed.
func withVersion(pkgs []tpkg, name, version string, fields ...string) []tpkg {
	out := append([]tpkg(nil), pkgs...)
	for i := range out {
		if out[i].name == name {
			out[i].version = version
			if fields != nil {
				out[i].fields = fields
			}
		}
	}
	return out
}

func find(ix *index.Index, name string) *index.Entry {
	for i := range ix.Packages {
		if ix.Packages[i].Package == name {
			return &ix.Packages[i]
		}
	}
	return nil
}

func names(ix *index.Index) []string {
	var out []string
	for _, e := range ix.Packages {
		out = append(out, e.Package+"="+e.Version)
	}
	return out
}

func mustRun(t *testing.T, o Options) Summary {
	t.Helper()
	sum, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v (summary %+v)", err, sum)
	}
	return sum
}

func mustLoad(t *testing.T, st *store.Store, ref string) *index.Index {
	t.Helper()
	ix, err := index.Load(st, ref)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestMirrorClosure mirrors the closure of hello and checks the index
// against the archive: every package of the closure and nothing else, the
// layer digests convert gives for the .debs, the metadata and the origin.
func TestMirrorClosure(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	sum := mustRun(t, a.options(st, clock(), "hello"))

	var debBytes int64
	for _, p := range basePkgs {
		if p.name != "unrelated" {
			debBytes += int64(len(p.deb()))
		}
	}
	if sum.New != 4 || sum.Unchanged != 0 || sum.Failed != 0 || sum.Packages != 4 || !sum.Published || sum.UpToDate ||
		sum.BytesDownloaded != debBytes || sum.BytesStored == 0 {
		t.Errorf("summary %+v, want 4 new packages, %d bytes downloaded", sum, debBytes)
	}
	if n := countPrefix(a.TakeRequests(), "/pool/"); n != 4 {
		t.Errorf("%d .deb downloads, want 4", n)
	}
	ix := mustLoad(t, st, index.LatestRef)
	want := []string{"base-files=12.4", "hello=2.10-1", "hello-data=2.10-1", "libc6=2.36-9"}
	if got := names(ix); !reflect.DeepEqual(got, want) {
		t.Fatalf("index lists %v, want %v", got, want)
	}
	key, _ := archivetest.Keys(t)
	if len(ix.Origins) != 1 || ix.Origins[0].Codename != "trixie" || ix.Origins[0].Suite != "testing" ||
		ix.Origins[0].Archive != a.URL || ix.Origins[0].Signer != strings.ToUpper(hex.EncodeToString(key.PrimaryKey.Fingerprint[:])) {
		t.Errorf("origins %+v", ix.Origins)
	}
	for _, p := range basePkgs[:4] {
		e := find(ix, p.name)
		if e.Layer.Digest.String() != p.layerDigest(t) {
			t.Errorf("%s: layer %s, convert gives %s", p.name, e.Layer.Digest, p.layerDigest(t))
		}
		if e.DebSHA256 != archivetest.SHA256(p.deb()) || e.Filename != p.filename() || e.Architecture != p.arch {
			t.Errorf("%s: entry %+v", p.name, e)
		}
		for _, h := range []string{e.Layer.Digest.String(), e.Layer.Manifest.String()} {
			if _, err := os.Stat(filepath.Join(st.Dir(), "blobs", "sha256", strings.TrimPrefix(h, "sha256:"))); err != nil {
				t.Errorf("%s: %v", p.name, err)
			}
		}
	}
	h := find(ix, "hello")
	if h.Depends != "libc6 (>= 2.36), hello-data (= 2.10-1)" || h.Suggests != "unrelated" || h.Important ||
		h.InstalledSize != 280 || h.Section != "devel" || h.Origin != 0 {
		t.Errorf("hello entry %+v", h)
	}
	if b := find(ix, "base-files"); !b.Essential || b.Priority != "required" || b.MultiArch != "foreign" || b.Important || b.Suggests != "" {
		t.Errorf("base-files entry %+v", b)
	}
	if l := find(ix, "libc6"); l.MultiArch != "same" || l.Provides != "libc6-x" || !l.Important {
		t.Errorf("libc6 entry %+v", l)
	}
	if !reflect.DeepEqual(ix.Scope, []string{"hello"}) || !strings.HasPrefix(ix.Input, "sha256:") {
		t.Errorf("scope %v input %q", ix.Scope, ix.Input)
	}
	// The dated copy is the same manifest, and the package images are
	// listed in index.json for OCI tools.
	d1, _ := st.Resolve(index.LatestRef)
	d2, err := st.Resolve(sum.DatedRef)
	if err != nil || d1.Digest != d2.Digest || sum.Index != d1.Digest.String() {
		t.Errorf("latest %s, dated %s (%v), summary %s", d1.Digest, d2.Digest, err, sum.Index)
	}
	if _, err := st.Resolve("hello_2.10-1_amd64"); err != nil {
		t.Error(err)
	}
	// Nothing left behind.
	for _, d := range []string{"deb2fs/tmp", "deb2fs/downloads"} {
		if ents, _ := os.ReadDir(filepath.Join(st.Dir(), d)); len(ents) != 0 {
			t.Errorf("%s holds %d files after the run", d, len(ents))
		}
	}
}

// TestMirrorRerun: a rerun with no archive change fetches only the
// InRelease, converts nothing, and publishes nothing new; --force rebuilds
// the index from the store, still without a download.
func TestMirrorRerun(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	now := clock()
	mustRun(t, a.options(st, now, "hello"))
	before, _ := os.ReadFile(filepath.Join(st.Dir(), "index.json"))
	a.TakeRequests()

	sum := mustRun(t, a.options(st, now, "hello"))
	reqs := a.TakeRequests()
	if !sum.UpToDate || sum.Published || sum.New != 0 || sum.Unchanged != 4 || sum.BytesDownloaded != 0 || sum.Index == "" || sum.Ref != index.LatestRef {
		t.Errorf("rerun summary %+v", sum)
	}
	if !reflect.DeepEqual(reqs, []string{"/dists/testing/InRelease"}) {
		t.Errorf("rerun requested %v, want only the InRelease", reqs)
	}
	after, _ := os.ReadFile(filepath.Join(st.Dir(), "index.json"))
	if string(before) != string(after) {
		t.Error("an up-to-date rerun rewrote index.json")
	}

	o := a.options(st, now, "hello")
	o.Force = true
	sum = mustRun(t, o)
	if sum.UpToDate || !sum.Published || sum.New != 0 || sum.Unchanged != 4 || countPrefix(a.TakeRequests(), "/pool/") != 0 {
		t.Errorf("forced rerun summary %+v", sum)
	}

	// Another scope is another input: it is not "up to date".
	sum = mustRun(t, a.options(st, now))
	if sum.UpToDate || sum.New != 1 || sum.Unchanged != 4 {
		t.Errorf("--all after hello: %+v", sum)
	}
	if got := countPrefix(a.TakeRequests(), "/pool/"); got != 1 {
		t.Errorf("--all fetched %d .debs, want 1 (unrelated)", got)
	}
}

// TestMirrorUpdate: after a new version of one package, only that .deb is
// fetched and converted; the previous dated index still loads and still
// names the old version.
func TestMirrorUpdate(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	now := clock()
	first := mustRun(t, a.options(st, now, "hello"))
	a.TakeRequests()

	a.publish(withVersion(basePkgs, "hello", "2.11-1"), suiteOpts{})
	sum := mustRun(t, a.options(st, now, "hello"))
	reqs := a.TakeRequests()
	if sum.New != 1 || sum.Unchanged != 3 || !sum.Published {
		t.Errorf("summary %+v", sum)
	}
	var pool []string
	for _, r := range reqs {
		if strings.HasPrefix(r, "/pool/") {
			pool = append(pool, r)
		}
	}
	if !reflect.DeepEqual(pool, []string{"/pool/main/h/hello/hello_2.11-1_amd64.deb"}) {
		t.Errorf("fetched %v, want only the new hello", pool)
	}
	latest := mustLoad(t, st, index.LatestRef)
	if e := find(latest, "hello"); e.Version != "2.11-1" {
		t.Errorf("latest hello %s", e.Version)
	}
	old := mustLoad(t, st, first.DatedRef)
	if e := find(old, "hello"); e.Version != "2.10-1" || !st.HasBlob(e.Layer.Digest) {
		t.Errorf("old index hello %+v", e)
	}
	refs, err := index.DatedRefs(st)
	if err != nil || !reflect.DeepEqual(refs, []string{first.DatedRef, sum.DatedRef}) {
		t.Errorf("dated refs %v (%v)", refs, err)
	}
}

// TestMirrorAll mirrors every package; an Architecture: all package is one
// layer.
func TestMirrorAll(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	sum := mustRun(t, a.options(st, clock()))
	ix := mustLoad(t, st, index.LatestRef)
	if sum.New != 5 || len(ix.Packages) != 5 || !reflect.DeepEqual(ix.Scope, []string{"all"}) {
		t.Errorf("summary %+v, index %v", sum, names(ix))
	}
	if e := find(ix, "hello-data"); e.Architecture != "all" || e.Layer.Digest.String() != basePkgs[2].layerDigest(t) {
		t.Errorf("hello-data %+v", e)
	}
}

// TestMirrorArchiveOrder: the Packages file lists app's three equal
// providers of v in the order m-prov, z-prov, a-prov. apt prefers the one
// it read last, a-prov; by name, z-prov comes last. The closure a run
// mirrors holds a-prov; the index is sorted by name, but each entry's Seq
// is its place in the file, and Index.Resolve over an --all index picks
// a-prov too (z-prov when the index has no Seq, as one of an older deb2fs).
func TestMirrorArchiveOrder(t *testing.T) {
	pkgs := []tpkg{
		basePkgs[0],
		{"app", "1.0", "amd64", []string{"Depends: v"}},
		{"m-prov", "1.0", "amd64", []string{"Provides: v"}},
		{"z-prov", "1.0", "all", []string{"Provides: v"}},
		{"a-prov", "1.0", "amd64", []string{"Provides: v"}},
	}
	a := newTestArchive(t)
	a.publish(pkgs, suiteOpts{})
	st := openStore(t)
	mustRun(t, a.options(st, clock(), "app"))
	ix := mustLoad(t, st, index.LatestRef)
	var got []string
	for _, e := range ix.Packages {
		got = append(got, e.Package+"@"+strconv.Itoa(e.Seq))
	}
	if want := []string{"a-prov@5", "app@2", "base-files@1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("the closure of app is %v, want %v", got, want)
	}

	mustRun(t, a.options(st, clock()))
	ix = mustLoad(t, st, index.LatestRef)
	got = got[:0]
	for _, e := range ix.Packages {
		got = append(got, e.Package+"@"+strconv.Itoa(e.Seq))
	}
	if want := []string{"a-prov@5", "app@2", "base-files@1", "m-prov@3", "z-prov@4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("the --all index lists %v, want %v", got, want)
	}
	req := resolve.Request{Base: resolve.BaseNone, Install: []string{"app"}}
	if s := resolveNames(t, ix, req); s != "a-prov app" {
		t.Errorf("Index.Resolve: %s, want a-prov app", s)
	}
	for i := range ix.Packages {
		ix.Packages[i].Seq = 0
	}
	if s := resolveNames(t, ix, req); s != "app z-prov" {
		t.Errorf("Index.Resolve without Seq: %s, want app z-prov", s)
	}
}

// TestMirrorTampering: each kind of tampering is refused with an error
// naming what failed, and the published index is untouched.
func TestMirrorTampering(t *testing.T) {
	_, rogueKey := archivetest.Keys(t)
	updated := withVersion(basePkgs, "hello", "2.11-1")
	newDeb := "pool/main/h/hello/hello_2.11-1_amd64.deb"
	for _, tc := range []struct {
		name         string
		tamper       func(a *testArchive)
		verification bool
		partial      bool // with Partial, the index is published without hello
		parts        []string
	}{
		{name: "bad signature", verification: true, parts: []string{"InRelease"},
			tamper: func(a *testArchive) { a.publish(updated, suiteOpts{signer: rogueKey}) }},
		{name: "expired Valid-Until", verification: true, parts: []string{"InRelease"},
			tamper: func(a *testArchive) { a.publish(updated, suiteOpts{validUntil: time.Now().Add(-time.Minute)}) }},
		{name: "wrong Packages hash", verification: true, parts: []string{"Packages"},
			tamper: func(a *testArchive) {
				a.publish(updated, suiteOpts{})
				for _, f := range []string{"Packages", "Packages.gz"} {
					p := filepath.Join(a.Root, "dists/testing/main/binary-amd64", f)
					b, _ := os.ReadFile(p)
					b[len(b)/2] ^= 1
					os.WriteFile(p, b, 0o644)
				}
			}},
		{name: "wrong deb hash", verification: true, parts: []string{"hello 2.11-1 amd64", "sha256"},
			tamper: func(a *testArchive) {
				a.publish(updated, suiteOpts{})
				p := filepath.Join(a.Root, newDeb)
				b, _ := os.ReadFile(p)
				b[len(b)-10] ^= 1
				os.WriteFile(p, b, 0o644)
			}},
		{name: "truncated deb", verification: true, parts: []string{"hello 2.11-1 amd64", "size"},
			tamper: func(a *testArchive) {
				a.publish(updated, suiteOpts{})
				p := filepath.Join(a.Root, newDeb)
				b, _ := os.ReadFile(p)
				os.WriteFile(p, b[:len(b)/2], 0o644)
			}},
		{name: "truncated transfer", partial: true, parts: []string{"hello 2.11-1 amd64", "truncated"},
			tamper: func(a *testArchive) {
				a.publish(updated, suiteOpts{})
				b, _ := os.ReadFile(filepath.Join(a.Root, newDeb))
				a.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != "/"+newDeb {
						return false
					}
					w.Header().Set("Content-Length", itoa(len(b)))
					w.Write(b[:len(b)/2])
					return true // the connection ends short
				})
			}},
		{name: "missing package", partial: true, parts: []string{"hello 2.11-1 amd64", "404"},
			tamper: func(a *testArchive) {
				a.publish(updated, suiteOpts{})
				os.Remove(filepath.Join(a.Root, newDeb))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestArchive(t)
			a.publish(basePkgs, suiteOpts{})
			st := openStore(t)
			now := clock()
			mustRun(t, a.options(st, now, "hello"))
			before, _ := os.ReadFile(filepath.Join(st.Dir(), "index.json"))
			old := mustLoad(t, st, index.LatestRef)

			tc.tamper(a)
			sum, err := Run(ctx, a.options(st, now, "hello"))
			if err == nil {
				t.Fatalf("no error; summary %+v", sum)
			}
			t.Logf("refused: %v", err)
			if got := errors.Is(err, archive.ErrVerification); got != tc.verification {
				t.Errorf("errors.Is(err, ErrVerification) = %v, want %v: %v", got, tc.verification, err)
			}
			for _, p := range tc.parts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not mention %q", err, p)
				}
			}
			if sum.Published {
				t.Errorf("published after %s", tc.name)
			}
			after, _ := os.ReadFile(filepath.Join(st.Dir(), "index.json"))
			if string(before) != string(after) {
				t.Errorf("index.json changed after %s", tc.name)
			}
			if ix := mustLoad(t, st, index.LatestRef); !reflect.DeepEqual(ix, old) {
				t.Errorf("latest index changed after %s", tc.name)
			}

			// With Partial, a failed package is left out and the rest is
			// published; a verification failure still publishes nothing.
			o := a.options(st, now, "hello")
			o.Partial = true
			sum, err = Run(ctx, o)
			switch {
			case tc.partial:
				if !errors.Is(err, ErrFailed) || !sum.Published || sum.Failed != 1 {
					t.Errorf("partial run: %v, summary %+v", err, sum)
				}
				if ix := mustLoad(t, st, index.LatestRef); find(ix, "hello") != nil || len(ix.Packages) != 3 {
					t.Errorf("partial index lists %v, want it without hello", names(ix))
				}
			default:
				if err == nil || sum.Published {
					t.Errorf("partial run after %s: %v, summary %+v", tc.name, err, sum)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestMirrorBusy: a second run on a store refuses at once with a clear
// message, or waits with Wait.
func TestMirrorBusy(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	unlock, err := st.LockRun(ctx, false, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Run(ctx, a.options(st, clock(), "hello"))
	if !errors.Is(err, store.ErrBusy) || !strings.Contains(err.Error(), "in use by process") {
		t.Fatalf("second run: %v, want a busy error naming the process", err)
	}
	o := a.options(st, clock(), "hello")
	o.Wait = true
	done := make(chan error)
	go func() {
		_, err := Run(ctx, o)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a waiting run finished while the store was locked: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting run did not proceed after the lock was released")
	}
}

// TestMirrorRepairsStore: an index whose layers were deleted by hand is not
// "up to date"; the next run converts them again.
func TestMirrorRepairsStore(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	now := clock()
	mustRun(t, a.options(st, now, "hello"))
	ix := mustLoad(t, st, index.LatestRef)
	os.Remove(st.BlobPath(find(ix, "libc6").Layer.Digest))
	sum := mustRun(t, a.options(st, now, "hello"))
	if sum.UpToDate || sum.New != 1 || sum.Unchanged != 3 {
		t.Errorf("summary %+v", sum)
	}
	if !st.HasBlob(find(ix, "libc6").Layer.Digest) {
		t.Error("libc6 layer not restored")
	}
}

// TestMirrorArchAll: with two architectures, an Architecture: all package
// that both binary indexes list is fetched, converted and indexed once.
func TestMirrorArchAll(t *testing.T) {
	var pkgs []tpkg
	for _, p := range basePkgs[:4] {
		if p.arch == "all" {
			pkgs = append(pkgs, p)
			continue
		}
		for _, arch := range []string{"amd64", "arm64"} {
			q := p
			q.arch = arch
			pkgs = append(pkgs, q)
		}
	}
	a := newTestArchive(t)
	a.publish(pkgs, suiteOpts{archs: []string{"amd64", "arm64"}})
	st := openStore(t)
	o := a.options(st, clock(), "hello")
	o.Sources[0].Architectures = []string{"amd64", "arm64"}
	sum := mustRun(t, o)
	if sum.New != 7 || sum.Packages != 7 {
		t.Errorf("summary %+v, want 7 packages (3 per architecture and hello-data once)", sum)
	}
	if n := countPrefix(a.TakeRequests(), "/pool/main/h/hello-data/"); n != 1 {
		t.Errorf("hello-data fetched %d times", n)
	}
	ix := mustLoad(t, st, index.LatestRef)
	count := map[string]int{}
	for _, e := range ix.Packages {
		count[e.Package+" "+e.Architecture]++
	}
	want := map[string]int{"base-files amd64": 1, "base-files arm64": 1, "hello amd64": 1, "hello arm64": 1,
		"libc6 amd64": 1, "libc6 arm64": 1, "hello-data all": 1}
	if !reflect.DeepEqual(count, want) {
		t.Errorf("index entries %v, want %v", count, want)
	}
}

// TestMirrorDatedRefsNeverMove: two publications within one second get
// two dated refs, and the first still names the first index.
func TestMirrorDatedRefsNeverMove(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	fixed := func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }
	first := mustRun(t, a.options(st, fixed, "hello"))
	a.publish(withVersion(basePkgs, "hello", "2.11-1"), suiteOpts{})
	second := mustRun(t, a.options(st, fixed, "hello"))
	if first.DatedRef == second.DatedRef || second.DatedRef != "deb2fs-index-20260501T000001Z" {
		t.Errorf("dated refs %s and %s", first.DatedRef, second.DatedRef)
	}
	if e := find(mustLoad(t, st, first.DatedRef), "hello"); e.Version != "2.10-1" {
		t.Errorf("the first dated ref now names hello %s", e.Version)
	}
}

// TestMirrorReusesDownloads: a verified .deb left in the download directory
// by a killed run is converted without downloading it again; a damaged one
// is downloaded again.
func TestMirrorReusesDownloads(t *testing.T) {
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	st := openStore(t)
	dir := filepath.Join(st.Dir(), "deb2fs", "downloads")
	os.MkdirAll(dir, 0o755)
	hello, libc := basePkgs[1].deb(), basePkgs[3].deb()
	os.WriteFile(filepath.Join(dir, archivetest.SHA256(hello)+".deb"), hello, 0o644)
	bad := bytes.Clone(libc)
	bad[len(bad)-3] ^= 1
	os.WriteFile(filepath.Join(dir, archivetest.SHA256(libc)+".deb"), bad, 0o644)
	os.WriteFile(filepath.Join(dir, ".x.deb.123.part"), []byte("partial"), 0o644)

	sum := mustRun(t, a.options(st, clock(), "hello"))
	reqs := a.TakeRequests()
	if sum.New != 4 || sum.BytesDownloaded != int64(len(basePkgs[0].deb())+len(basePkgs[2].deb())+len(libc)) {
		t.Errorf("summary %+v", sum)
	}
	if countPrefix(reqs, "/pool/main/h/hello/") != 0 || countPrefix(reqs, "/pool/main/l/libc6/") != 1 {
		t.Errorf("requests %v: want hello reused, libc6 fetched again", reqs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("download directory holds %d files", len(ents))
	}
}

// TestMirrorKeep: with Keep, only the newest dated copies stay; the others'
// artifacts are removed; every layer stays.
func TestMirrorKeep(t *testing.T) {
	a := newTestArchive(t)
	st := openStore(t)
	now := clock()
	var sums []Summary
	for _, v := range []string{"2.10-1", "2.11-1", "2.12-1", "2.13-1"} {
		a.publish(withVersion(basePkgs, "hello", v), suiteOpts{})
		o := a.options(st, now, "hello")
		o.Keep = 2
		sums = append(sums, mustRun(t, o))
	}
	refs, err := index.DatedRefs(st)
	if err != nil || !reflect.DeepEqual(refs, []string{sums[2].DatedRef, sums[3].DatedRef}) {
		t.Errorf("dated refs %v (%v), want the last two", refs, err)
	}
	if !reflect.DeepEqual(sums[3].Pruned, []string{sums[1].DatedRef}) {
		t.Errorf("the last run pruned %v", sums[3].Pruned)
	}
	for _, s := range sums[:2] {
		if _, err := index.Load(st, s.DatedRef); err == nil {
			t.Errorf("%s still loads", s.DatedRef)
		}
		h, _ := v1.NewHash(s.Index)
		if st.HasBlob(h) {
			t.Errorf("the artifact of %s was not removed", s.DatedRef)
		}
	}
	if e := find(mustLoad(t, st, index.LatestRef), "hello"); e.Version != "2.13-1" {
		t.Errorf("latest hello %s", e.Version)
	}
	// Layers of the pruned indexes stay (compose images may share them).
	for _, v := range []string{"2.10-1", "2.11-1"} {
		if _, err := st.Resolve("hello_" + v + "_amd64"); err != nil {
			t.Errorf("hello %s: %v", v, err)
		}
	}
}
