package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
)

// verifyPkg is a hand-made package whose postinst writes /etc/deb2fs-verify:
// what the configure layer holds says which postinst ran.
const verifyPkg = "deb2fs-verify"

var (
	verifyPostinst  = "#!/bin/sh\necho original > /etc/deb2fs-verify\n"
	tamperedPostins = "#!/bin/sh\necho tampered > /etc/deb2fs-verify\n" // same size
)

// privateStore is a new store holding the essential set's layers (hard
// links into the shared test store: corruptBlob replaces a file, never
// writes into it) and verifyPkg; it returns the set.
func privateStore(t *testing.T) (*store.Store, []index.Entry) {
	t.Helper()
	shared := testStore(t)
	es := hostSet(t, shared, resolve.Request{})
	s := emptyStore(t)
	for _, e := range es {
		from, to := shared.BlobPath(e.Layer.Digest), s.BlobPath(e.Layer.Digest)
		if err := os.Link(from, to); err != nil {
			data, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := handMade(t, s, fixtures.Deb{
		Control:      fixtures.Control(verifyPkg),
		ControlFiles: map[string][]byte{"postinst": []byte(verifyPostinst)},
		Data:         []fixtures.Entry{fixtures.Dir("./"), fixtures.Dir("./usr/"), fixtures.Dir("./usr/share/"), fixtures.File("./usr/share/"+verifyPkg, 0o644, "x\n")},
	}, verifyPkg)
	return s, append(es, e)
}

// corruptBlob flips one byte of a file (offset from the start; negative:
// from the end), replacing the file rather than writing into it.
func corruptBlob(t *testing.T, p string, off int) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off += len(data)
	}
	data[off] ^= 0x5a
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// logCapture collects compose's progress lines.
type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func (l *logCapture) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logCapture) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

// marker is /etc/deb2fs-verify in an image's configure layer.
func marker(t *testing.T, dir string, img *Image) string {
	t.Helper()
	l := img.Layers[len(img.Layers)-1]
	return layerFiles(t, blobPath(dir, l.Digest), l)["etc/deb2fs-verify"]
}

func entryOf(es []index.Entry, name string) index.Entry {
	for _, e := range es {
		if e.Package == name {
			return e
		}
	}
	panic(name)
}

// checkStore runs the store and cache checks and returns their problems.
func checkStore(t *testing.T, s *store.Store, repair bool) []store.Problem {
	t.Helper()
	ps, err := s.Verify(repair)
	if err != nil {
		t.Fatal(err)
	}
	cps, err := VerifyCache(s, repair)
	if err != nil {
		t.Fatal(err)
	}
	return append(ps, cps...)
}

// wantProblem fails unless one of ps names each of names.
func wantProblem(t *testing.T, ps []store.Problem, names ...string) {
	t.Helper()
	for _, p := range ps {
		ok := true
		for _, n := range names {
			ok = ok && strings.Contains(p.String(), n)
		}
		if ok {
			t.Logf("verify: %s", p)
			return
		}
	}
	t.Errorf("verify found no problem naming %q; it found %v", names, ps)
}

// repairAndCheck repairs the store, which must then verify clean.
func repairAndCheck(t *testing.T, s *store.Store) {
	t.Helper()
	for _, p := range checkStore(t, s, true) {
		t.Logf("repair: %s", p)
	}
	if ps := checkStore(t, s, false); len(ps) > 0 {
		t.Errorf("after --repair the store still has problems: %v", ps)
	}
}

// (a) A maintainer script edited in the unpacked cache (same size, mtime
// put back) is noticed on use: the tree is unpacked again from its blob and
// the image is the one the untouched layers give.
func TestVerifyUnpackedTreeEdited(t *testing.T) {
	needRoot(t)
	s, es := privateStore(t)
	out := t.TempDir()
	first, err := Compose(context.Background(), Options{Packages: es, Store: s, Output: output.Layout{Dir: out, Tag: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := marker(t, out, first); got != "original\n" {
		t.Fatalf("first image: /etc/deb2fs-verify = %q", got)
	}
	ids, err := sandbox.DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	e := entryOf(es, verifyPkg)
	p := filepath.Join(rootfs.UnpackedRoot(s, ids), e.Layer.Digest.Hex, "tree", "var/lib/dpkg/info", verifyPkg+".postinst")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatalf("the cache was not filled: %v", err)
	}
	if err := os.WriteFile(p, []byte(tamperedPostins), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, checkStore(t, s, false), e.Layer.Digest.Hex, "var/lib/dpkg/info/"+verifyPkg+".postinst")

	var log logCapture
	img, err := Compose(context.Background(), Options{Packages: es, Store: s, NoCache: true, Assemble: configure.AssembleOverlay, Logf: log.logf,
		Output: output.Layout{Dir: out, Tag: "second"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := marker(t, out, img); got != "original\n" {
		t.Errorf("the edited postinst ran: /etc/deb2fs-verify = %q", got)
	}
	if img.Manifest.Digest != first.Manifest.Digest {
		t.Errorf("image %s, want %s", img.Manifest.Digest, first.Manifest.Digest)
	}
	if !log.has(e.Layer.Digest.Hex) || !log.has("unpacking it again") {
		t.Errorf("the re-unpack was not logged: %q", log.lines)
	}
	if ps := checkStore(t, s, false); len(ps) > 0 {
		t.Errorf("after the re-unpack: %v", ps)
	}
	// Edited again: --repair drops the tree.
	if err := os.WriteFile(p, []byte(tamperedPostins), 0); err != nil {
		t.Fatal(err)
	}
	repairAndCheck(t, s)
}

// (b) A package layer blob with a flipped byte fails the compose with an
// error naming the blob and the package, whether the unpacked cache holds
// the layer (the blob is then only referenced) or not (it is read); no
// image is tagged and nothing is left in the output layout.
func TestVerifyCorruptLayerBlob(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name string
		warm bool
		off  int // 4: the gzip header's mtime, which gzip does not check
	}{{"cold-header", false, 4}, {"cold-middle", false, -100}, {"warm-header", true, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			s, es := privateStore(t)
			e := entryOf(es, verifyPkg)
			if tc.warm {
				if _, err := Compose(context.Background(), Options{Packages: es, Store: s, Output: output.Layout{Dir: t.TempDir()}}); err != nil {
					t.Fatal(err)
				}
			}
			corruptBlob(t, s.BlobPath(e.Layer.Digest), tc.off)
			wantProblem(t, checkStore(t, s, false), e.Layer.Digest.String())
			out := t.TempDir()
			_, err := Compose(context.Background(), Options{Packages: es, Store: s, NoCache: true, Output: output.Layout{Dir: out, Tag: "bad"}})
			if err == nil {
				t.Fatal("compose of a corrupt layer blob succeeded")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, store.ErrBlobDigest) || !strings.Contains(err.Error(), e.Layer.Digest.String()) || !strings.Contains(err.Error(), verifyPkg) {
				t.Errorf("the error does not name the blob %s and the package %s: %v", e.Layer.Digest, verifyPkg, err)
			}
			if idx, _ := os.ReadFile(filepath.Join(out, "index.json")); strings.Contains(string(idx), "bad") {
				t.Errorf("a failed compose tagged an image: %s", idx)
			}
			if n := countBlobs(t, out); n > 0 {
				t.Errorf("the failed compose left %d blobs in the output layout", n)
			}
			repairAndCheck(t, s)
		})
	}
}

// (c) A cached configure layer whose blob was corrupted is not reused: it
// is made again, and the image is the one the first compose made.
func TestVerifyCorruptConfigureLayer(t *testing.T) {
	needRoot(t)
	s, es := privateStore(t)
	out := t.TempDir()
	first, err := Compose(context.Background(), Options{Packages: es, Store: s, Output: output.Layout{Dir: out, Tag: "first"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := first.Layers[len(first.Layers)-1]
	corruptBlob(t, s.BlobPath(cfg.Digest), 4)
	wantProblem(t, checkStore(t, s, false), cfg.Digest.String())

	var log logCapture
	img, err := Compose(context.Background(), Options{Packages: es, Store: s, Logf: log.logf, Output: output.Layout{Dir: t.TempDir(), Tag: "second"}})
	if err != nil {
		t.Fatal(err)
	}
	if img.Cached {
		t.Error("the corrupt configure layer was reused")
	}
	if !log.has(cfg.Digest.String()) {
		t.Errorf("the rebuild was not logged: %q", log.lines)
	}
	if img.Manifest.Digest != first.Manifest.Digest {
		t.Errorf("image %s, want %s", img.Manifest.Digest, first.Manifest.Digest)
	}
	if ps := checkStore(t, s, false); len(ps) > 0 {
		t.Errorf("after the rebuild: %v", ps)
	}
	corruptBlob(t, s.BlobPath(cfg.Digest), 4)
	repairAndCheck(t, s)
	again, err := Compose(context.Background(), Options{Packages: es, Store: s, Output: output.Layout{Dir: t.TempDir()}})
	if err != nil || again.Cached || again.Manifest.Digest != first.Manifest.Digest {
		t.Errorf("compose after --repair: %v (cached %v)", err, again != nil && again.Cached)
	}
}

// countBlobs counts the blobs of a layout.
func countBlobs(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

// The cost of verification on use for nginx+openssh-server with a warm
// unpacked cache: the stat walk of every cached tree (sequential, and in
// parallel as assembleOverlay does it) and hashing every layer blob.
func TestVerifyCostNginxOpenSSH(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"nginx", "openssh-server"}}
	es := hostSet(t, s, req)
	for range 2 { // the second run has a warm cache of this format
		img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s, NoCache: true, Assemble: configure.AssembleOverlay,
			Output: output.Layout{Dir: t.TempDir()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("compose: %s", img.Timings)
	}
	ids, err := sandbox.DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	var finals []string
	var size int64
	for _, e := range es {
		finals = append(finals, filepath.Join(rootfs.UnpackedRoot(s, ids), e.Layer.Digest.Hex))
		size += e.Layer.Size
	}
	entries := 0
	start := time.Now()
	for _, f := range finals {
		if err := rootfs.CheckStat(f); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(f, "stat"))
		entries += bytes.Count(data, []byte("\n"))
	}
	seq := time.Since(start)
	start = time.Now()
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for _, f := range finals {
		g.Go(func() error { return rootfs.CheckStat(f) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	par := time.Since(start)
	checks := store.NewChecks(s.Layout())
	var descs []v1.Descriptor
	var whats []string
	for _, e := range es {
		descs = append(descs, v1.Descriptor{Digest: e.Layer.Digest, Size: e.Layer.Size, MediaType: e.Layer.MediaType})
		whats = append(whats, e.Package)
	}
	start = time.Now()
	if err := checks.CheckAll(descs, whats); err != nil {
		t.Fatal(err)
	}
	hash := time.Since(start)
	t.Logf("%d packages: stat walk of %d entries %s (%s on %d CPUs); hashing %d MB of layer blobs %s",
		len(es), entries, seq.Round(time.Millisecond), par.Round(time.Millisecond), runtime.NumCPU(), size>>20, hash.Round(time.Millisecond))
}
