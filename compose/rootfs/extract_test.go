package rootfs_test

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/compose/rootfs/rootfstest"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestExtractWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("extraction sets owners: needs root")
	}
	blobs, root := t.TempDir(), t.TempDir()
	l1 := rootfstest.TarLayer(t, blobs,
		tar.Header{Typeflag: tar.TypeDir, Name: "a/", Mode: 0o755},
		tar.Header{Typeflag: tar.TypeReg, Name: "a/f", Linkname: "one"},
		tar.Header{Typeflag: tar.TypeReg, Name: "a/g", Linkname: "two"},
		tar.Header{Typeflag: tar.TypeDir, Name: "o/", Mode: 0o755},
		tar.Header{Typeflag: tar.TypeReg, Name: "o/x", Linkname: "x"},
		tar.Header{Typeflag: tar.TypeSymlink, Name: "s", Linkname: "/etc"},
		tar.Header{Typeflag: tar.TypeReg, Name: "u", Linkname: "suid", Mode: 0o4755},
	)
	l2 := rootfstest.TarLayer(t, blobs,
		tar.Header{Typeflag: tar.TypeReg, Name: "a/.wh.f"},
		tar.Header{Typeflag: tar.TypeReg, Name: "a/g", Linkname: "new"},
		tar.Header{Typeflag: tar.TypeReg, Name: "o/.wh..wh..opq"},
		tar.Header{Typeflag: tar.TypeReg, Name: "o/y", Linkname: "y"},
		tar.Header{Typeflag: tar.TypeLink, Name: "a/h", Linkname: "a/g"},
	)
	x := rootfs.NewExtractor(root, sandbox.IDs{})
	for _, l := range []string{l1, l2} {
		if err := x.Apply(l, types.OCILayer, rootfstest.HashOf(l)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(rel, want string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(root, rel))
		if want == "" {
			if err == nil {
				t.Errorf("%s exists, want it deleted", rel)
			}
			return
		}
		if err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", rel, data, err, want)
		}
	}
	check("a/f", "")
	check("a/g", "new")
	check("a/h", "new")
	check("o/x", "")
	check("o/y", "y")
	if fi, err := os.Stat(filepath.Join(root, "u")); err != nil || fi.Mode()&os.ModeSetuid == 0 {
		t.Errorf("u lost its setuid bit: %v %v", fi.Mode(), err)
	}

	// An entry through a symlink is refused: it would write outside root.
	l3 := rootfstest.TarLayer(t, blobs, tar.Header{Typeflag: tar.TypeReg, Name: "s/passwd", Linkname: "evil"})
	if err := x.Apply(l3, types.OCILayer, rootfstest.HashOf(l3)); err == nil {
		t.Error("writing through a symlink succeeded")
	}
	l4 := rootfstest.TarLayer(t, blobs, tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Linkname: "evil"})
	if err := x.Apply(l4, types.OCILayer, rootfstest.HashOf(l4)); err == nil {
		t.Error("a .. path succeeded")
	}
}

func TestExtractOverlap(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("extraction sets owners: needs root")
	}
	blobs := t.TempDir()
	a := rootfstest.TarLayer(t, blobs, tar.Header{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755}, tar.Header{Typeflag: tar.TypeReg, Name: "usr/x", Linkname: "a"})
	b := rootfstest.TarLayer(t, blobs, tar.Header{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755}, tar.Header{Typeflag: tar.TypeReg, Name: "usr/x", Linkname: "b"})
	for _, tc := range []struct {
		replaces bool
		wantErr  bool
	}{{false, true}, {true, false}} {
		x := rootfs.NewExtractor(t.TempDir(), sandbox.IDs{})
		x.Own = rootfs.NewOwnership(func(later, earlier string) bool { return tc.replaces && later == "b" && earlier == "a" })
		x.Layer = "a"
		if err := x.Apply(a, types.OCILayer, rootfstest.HashOf(a)); err != nil {
			t.Fatal(err)
		}
		x.Layer = "b"
		err := x.Apply(b, types.OCILayer, rootfstest.HashOf(b))
		var oe *rootfs.OverlapError
		if tc.wantErr != errors.As(err, &oe) {
			t.Errorf("replaces %v: got %v", tc.replaces, err)
		}
	}
}
