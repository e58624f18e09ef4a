package compose

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/deb2fs/deb2fs/sandbox"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// tarLayer writes a gzip layer of the given headers (content = the
// header's Linkname for regular files, to keep the table short) into dir.
func tarLayer(t *testing.T, dir string, hdrs ...tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	lw := newLayerWriter(&buf)
	for _, h := range hdrs {
		h := h
		body := ""
		if h.Typeflag == tar.TypeReg {
			body, h.Linkname = h.Linkname, ""
			h.Size = int64(len(body))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := lw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		lw.Write([]byte(body))
	}
	desc, _, err := lw.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, desc.Digest.Hex)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExtractWhiteouts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("extraction sets owners: needs root")
	}
	blobs, root := t.TempDir(), t.TempDir()
	l1 := tarLayer(t, blobs,
		tar.Header{Typeflag: tar.TypeDir, Name: "a/", Mode: 0o755},
		tar.Header{Typeflag: tar.TypeReg, Name: "a/f", Linkname: "one"},
		tar.Header{Typeflag: tar.TypeReg, Name: "a/g", Linkname: "two"},
		tar.Header{Typeflag: tar.TypeDir, Name: "o/", Mode: 0o755},
		tar.Header{Typeflag: tar.TypeReg, Name: "o/x", Linkname: "x"},
		tar.Header{Typeflag: tar.TypeSymlink, Name: "s", Linkname: "/etc"},
		tar.Header{Typeflag: tar.TypeReg, Name: "u", Linkname: "suid", Mode: 0o4755},
	)
	l2 := tarLayer(t, blobs,
		tar.Header{Typeflag: tar.TypeReg, Name: "a/.wh.f"},
		tar.Header{Typeflag: tar.TypeReg, Name: "a/g", Linkname: "new"},
		tar.Header{Typeflag: tar.TypeReg, Name: "o/.wh..wh..opq"},
		tar.Header{Typeflag: tar.TypeReg, Name: "o/y", Linkname: "y"},
		tar.Header{Typeflag: tar.TypeLink, Name: "a/h", Linkname: "a/g"},
	)
	x := newExtractor(root, sandbox.IDs{})
	for _, l := range []string{l1, l2} {
		if err := x.apply(l, types.OCILayer, hashOf(l)); err != nil {
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
	l3 := tarLayer(t, blobs, tar.Header{Typeflag: tar.TypeReg, Name: "s/passwd", Linkname: "evil"})
	if err := x.apply(l3, types.OCILayer, hashOf(l3)); err == nil {
		t.Error("writing through a symlink succeeded")
	}
	l4 := tarLayer(t, blobs, tar.Header{Typeflag: tar.TypeReg, Name: "../escape", Linkname: "evil"})
	if err := x.apply(l4, types.OCILayer, hashOf(l4)); err == nil {
		t.Error("a .. path succeeded")
	}
}

func TestBaseLayerDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	da, _, err := writeBaseLayer(&a, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	db, _, _ := writeBaseLayer(&b, "amd64")
	if da.Digest != db.Digest || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("base layer differs between two runs")
	}
	got := layerEntries(t, a.Bytes())
	want := map[string]bool{"2 bin -> usr/bin": true, "2 lib64 -> usr/lib64": true, "0 var/lib/dpkg/info/format": true, "0 var/lib/dpkg/status": true}
	for _, e := range got {
		delete(want, e)
	}
	if len(want) > 0 {
		t.Errorf("base layer lacks %v; has %v", want, got)
	}
	var c bytes.Buffer
	writeBaseLayer(&c, "arm64")
	for _, e := range layerEntries(t, c.Bytes()) {
		if e == "2 lib64 -> usr/lib64" {
			t.Error("arm64 base has lib64")
		}
	}
}

func hashOf(p string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: filepath.Base(p)} }

func TestExtractOverlap(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("extraction sets owners: needs root")
	}
	blobs := t.TempDir()
	a := tarLayer(t, blobs, tar.Header{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755}, tar.Header{Typeflag: tar.TypeReg, Name: "usr/x", Linkname: "a"})
	b := tarLayer(t, blobs, tar.Header{Typeflag: tar.TypeDir, Name: "usr/", Mode: 0o755}, tar.Header{Typeflag: tar.TypeReg, Name: "usr/x", Linkname: "b"})
	for _, tc := range []struct {
		replaces bool
		wantErr  bool
	}{{false, true}, {true, false}} {
		x := newExtractor(t.TempDir(), sandbox.IDs{})
		x.own = newOwnership(func(later, earlier string) bool { return tc.replaces && later == "b" && earlier == "a" })
		x.layer = "a"
		if err := x.apply(a, types.OCILayer, hashOf(a)); err != nil {
			t.Fatal(err)
		}
		x.layer = "b"
		err := x.apply(b, types.OCILayer, hashOf(b))
		var oe *OverlapError
		if tc.wantErr != errors.As(err, &oe) {
			t.Errorf("replaces %v: got %v", tc.replaces, err)
		}
	}
}
