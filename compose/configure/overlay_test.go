package configure

import (
	"archive/tar"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/compose/rootfs/rootfstest"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// overlayFixture is a store directory holding hand-made layers: a base
// and packages, in order.
type overlayFixture struct {
	st   *store.Store
	base v1.Descriptor
	pkgs []index.Entry
}

func newOverlayFixture(t *testing.T, base []tar.Header, pkgs map[string][]tar.Header, order ...string) *overlayFixture {
	t.Helper()
	f := &overlayFixture{st: openStore(t, t.TempDir())}
	blobs := filepath.Join(f.st.Dir(), "blobs", "sha256")
	os.MkdirAll(blobs, 0o755)
	b := rootfstest.TarLayer(t, blobs, base...)
	f.base = v1.Descriptor{Digest: rootfstest.HashOf(b), MediaType: types.OCILayer}
	for _, name := range order {
		p := rootfstest.TarLayer(t, blobs, pkgs[name]...)
		f.pkgs = append(f.pkgs, index.Entry{Package: name, Version: "1", Architecture: "amd64",
			Layer: index.Layer{Digest: rootfstest.HashOf(p), MediaType: types.OCILayer}})
	}
	return f
}

// assembleWith materialises the fixture with one assembly and returns the
// work area (removed at the end of the test) and the composer.
func (f *overlayFixture) assembleWith(t *testing.T, how Assembly, replaces map[string]string) (*scratch, error) {
	t.Helper()
	for i := range f.pkgs {
		if r, ok := replaces[f.pkgs[i].Package]; ok {
			f.pkgs[i].Replaces = r
		}
	}
	c := &Builder{opts: Options{Assemble: how}, st: f.st, pkgs: f.pkgs}
	dir, err := os.MkdirTemp(DefaultWorkDir(), RootPrefix)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scratch{dir: dir}
	t.Cleanup(sc.remove)
	_, err = c.assemble(sc, f.base, configureRun{})
	return sc, err
}

// tree lists every path below root with its type, mode, owner and, for
// files and symlinks, content.
func tree(t *testing.T, root string) string {
	t.Helper()
	var out []string
	err := filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err != nil || p == root {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		line := p[len(root):] + " " + fi.Mode().String() + " " + strconv.Itoa(int(st.Uid)) + ":" + strconv.Itoa(int(st.Gid))
		switch {
		case fi.Mode().IsRegular():
			data, _ := os.ReadFile(p)
			line += " " + string(data)
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

var overlayBase = []tar.Header{
	{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755},
	{Typeflag: tar.TypeSymlink, Name: "bin", Linkname: "usr/bin"},
	{Typeflag: tar.TypeDir, Name: "usr/bin/", Mode: 0o755},
	{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
	{Typeflag: tar.TypeDir, Name: "proc/", Mode: 0o755},
	{Typeflag: tar.TypeDir, Name: "dev/", Mode: 0o755},
}

// The overlay path gives the tree the extraction path gives: directories
// merge with the later layer's metadata, files of both layers show, a
// setuid file and an owner survive, and maintainer-script writes land in
// the upper directory, never in the cache.
func TestOverlayMatchesExtract(t *testing.T) {
	needRoot(t)
	f := newOverlayFixture(t, overlayBase, map[string][]tar.Header{
		"a": {
			{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755},
			{Typeflag: tar.TypeDir, Name: "usr/bin/", Mode: 0o755},
			{Typeflag: tar.TypeReg, Name: "usr/bin/a", Linkname: "A", Mode: 0o4755},
			{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
			{Typeflag: tar.TypeDir, Name: "etc/shared/", Mode: 0o700},
			{Typeflag: tar.TypeReg, Name: "etc/shared/a.conf", Linkname: "a", Uid: 100, Gid: 101},
		},
		"b": {
			{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
			{Typeflag: tar.TypeDir, Name: "etc/shared/", Mode: 0o750, Gid: 4},
			{Typeflag: tar.TypeReg, Name: "etc/shared/b.conf", Linkname: "b"},
			{Typeflag: tar.TypeSymlink, Name: "etc/shared/link", Linkname: "a.conf"},
			{Typeflag: tar.TypeReg, Name: "etc/hard", Linkname: "h"},
			{Typeflag: tar.TypeLink, Name: "etc/hard2", Linkname: "etc/hard"},
		},
	}, "a", "b")
	ov, err := f.assembleWith(t, AssembleOverlay, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ov.overlay {
		t.Fatal("overlay path not taken")
	}
	ex, err := f.assembleWith(t, AssembleExtract, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, ov.root), tree(t, ex.root); got != want {
		t.Errorf("overlay tree:\n%s\nextracted tree:\n%s", got, want)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(ov.root, "etc/hard2"), &st); err != nil || st.Nlink != 2 {
		t.Errorf("hard link: nlink %d, %v", st.Nlink, err)
	}
	// A write goes to the upper directory; the cached tree is untouched.
	if err := os.WriteFile(filepath.Join(ov.root, "etc/shared/a.conf"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids, err := sandbox.DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	u, err := rootfs.Unpack(f.st, ids, v1.Descriptor{Digest: f.pkgs[0].Layer.Digest, MediaType: types.OCILayer}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(u.Tree, "etc/shared/a.conf")); string(data) != "a" {
		t.Errorf("the cached layer changed: %q", data)
	}
	if data, _ := os.ReadFile(filepath.Join(ov.dir, "upper/etc/shared/a.conf")); string(data) != "changed" {
		t.Errorf("upper: %q", data)
	}
	// remove unmounts and deletes.
	ov.remove()
	if _, err := os.Lstat(ov.dir); err == nil {
		t.Error("work area left behind")
	}
}

// Two layers shipping one file: an rootfs.OverlapError on both paths unless the
// later declares Replaces; the later one's file wins.
func TestOverlayOverlap(t *testing.T) {
	needRoot(t)
	f := newOverlayFixture(t, overlayBase, map[string][]tar.Header{
		"a": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/x", Linkname: "a"}},
		"b": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/x", Linkname: "b"}},
	}, "a", "b")
	for _, how := range []Assembly{AssembleOverlay, AssembleExtract, AssembleAuto} {
		_, err := f.assembleWith(t, how, map[string]string{"b": ""})
		var oe *rootfs.OverlapError
		if !errors.As(err, &oe) || oe.First != "a" || oe.Second != "b" || oe.Path != "etc/x" {
			t.Errorf("%q without Replaces: %v", how, err)
		}
		sc, err := f.assembleWith(t, how, map[string]string{"b": "a (<< 2)"})
		if err != nil {
			t.Fatalf("%q with Replaces: %v", how, err)
		}
		if data, _ := os.ReadFile(filepath.Join(sc.root, "etc/x")); string(data) != "b" {
			t.Errorf("%q: etc/x = %q, want b's", how, data)
		}
	}
}

// What overlayfs cannot stack as the extractor applies it (a whiteout, a
// path that is a directory in one layer and a file in another) is refused
// by the overlay path, and the automatic choice falls back to extraction.
func TestOverlayFallback(t *testing.T) {
	needRoot(t)
	for name, pkgs := range map[string]map[string][]tar.Header{
		"whiteout": {
			"a": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/x", Linkname: "a"}},
			"b": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/.wh.x"}},
		},
		"file-over-dir": {
			"a": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeDir, Name: "etc/x/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/x/z", Linkname: "a"}},
			"b": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeSymlink, Name: "etc/x", Linkname: "y"}},
		},
		"dir-over-file": {
			"a": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeSymlink, Name: "etc/x", Linkname: "y"}},
			"b": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeDir, Name: "etc/x/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/x/z", Linkname: "b"}},
		},
	} {
		f := newOverlayFixture(t, overlayBase, pkgs, "a", "b")
		if _, err := f.assembleWith(t, AssembleOverlay, nil); !errors.Is(err, rootfs.ErrNotOverlayable) {
			t.Errorf("%s: overlay: %v, want rootfs.ErrNotOverlayable", name, err)
		}
		auto, err := f.assembleWith(t, AssembleAuto, nil)
		if err != nil {
			t.Fatalf("%s: auto: %v", name, err)
		}
		ex, err := f.assembleWith(t, AssembleExtract, nil)
		if err != nil {
			t.Fatalf("%s: extract: %v", name, err)
		}
		if auto.overlay {
			t.Errorf("%s: auto kept the overlay", name)
		}
		if got, want := tree(t, auto.root), tree(t, ex.root); got != want {
			t.Errorf("%s: auto:\n%s\nextract:\n%s", name, got, want)
		}
	}
}

// A work area whose compose was killed (its pid is gone, and its sandbox,
// which held the only mounts, with it) is removed by the next compose; a
// cache entry of another format or without its meta is unpacked again.
func TestOverlayStaleAndCache(t *testing.T) {
	needRoot(t)
	f := newOverlayFixture(t, overlayBase, map[string][]tar.Header{
		"a": {{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755}, {Typeflag: tar.TypeReg, Name: "etc/x", Linkname: "a"}},
	}, "a")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	c := &Builder{opts: Options{Assemble: AssembleOverlay}, st: f.st, pkgs: f.pkgs}
	dir := filepath.Join(work, RootPrefix+strconv.Itoa(dead.Process.Pid)+"-x")
	os.Mkdir(dir, 0o700)
	sc := &scratch{dir: dir}
	if _, err := c.assemble(sc, f.base, configureRun{}); err != nil || !sc.overlay {
		t.Fatalf("assemble: %v (overlay %v)", err, sc.overlay)
	}
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), dir) {
		t.Fatal("the overlay is mounted in the host's mount namespace")
	}
	sc.box.Close()
	RemoveStaleRoots(work)
	if _, err := os.Lstat(dir); err == nil {
		sc.remove()
		t.Fatal("the stale work area survived")
	}

	final := filepath.Join(rootfs.UnpackedRoot(f.st, c.ids), f.pkgs[0].Layer.Digest.Hex)
	os.WriteFile(filepath.Join(final, "meta.json"), []byte(`{"format": 0}`), 0o644)
	u, err := rootfs.Unpack(f.st, c.ids, v1.Descriptor{Digest: f.pkgs[0].Layer.Digest, MediaType: types.OCILayer}, nil)
	if err != nil || u.Meta.Format != rootfs.UnpackedFormat || len(u.Meta.Files) != 1 {
		t.Fatalf("re-unpack of an old entry: %+v, %v", u, err)
	}
}

// With most layers missing from the unpacked cache, the automatic choice
// extracts this time and fills the cache in the background; the next
// compose stacks the cached layers with overlayfs. Both give one tree.
func TestOverlayColdCacheFill(t *testing.T) {
	needRoot(t)
	f := newOverlayFixture(t, overlayBase, replacesLayers(), "a", "b")
	c := &Builder{opts: Options{Assemble: AssembleAuto}, st: f.st, pkgs: f.pkgs}
	newScratch := func() *scratch {
		dir, err := os.MkdirTemp(DefaultWorkDir(), RootPrefix)
		if err != nil {
			t.Fatal(err)
		}
		sc := &scratch{dir: dir}
		t.Cleanup(sc.remove)
		return sc
	}
	for i := range f.pkgs {
		f.pkgs[i].Replaces = map[string]string{"b": "a"}[f.pkgs[i].Package]
	}
	cold := newScratch()
	if _, err := c.assemble(cold, f.base, configureRun{}); err != nil {
		t.Fatal(err)
	}
	c.Wait()
	if cold.overlay {
		t.Error("an empty cache was stacked, not extracted")
	}
	for _, d := range c.layerDescs(f.base) {
		if !rootfs.IsUnpacked(f.st, c.ids, d.Digest) {
			t.Errorf("layer %s not unpacked in the background", d.Digest)
		}
	}
	c2 := &Builder{opts: Options{Assemble: AssembleAuto}, st: f.st, pkgs: f.pkgs}
	warm := newScratch()
	if _, err := c2.assemble(warm, f.base, configureRun{}); err != nil {
		t.Fatal(err)
	}
	if !warm.overlay || c2.fill != nil {
		t.Errorf("warm cache: overlay %v, background fill %v", warm.overlay, c2.fill != nil)
	}
	if got, want := tree(t, warm.root), tree(t, cold.root); got != want {
		t.Errorf("overlay:\n%s\nextracted:\n%s", got, want)
	}
}
