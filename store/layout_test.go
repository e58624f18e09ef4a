package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A blob read through Layout.OpenBlob that does not match its digest fails at
// its end, naming the blob and what it is; a good one reads through.
func TestOpenBlobVerifies(t *testing.T) {
	l, err := OpenLayout(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	desc, err := l.PutBytes("x", []byte("hello, world\n"))
	if err != nil {
		t.Fatal(err)
	}
	read := func() error {
		r, err := l.OpenBlob(desc, "a greeting")
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(io.Discard, r)
		return err
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	p := l.BlobPath(desc.Digest)
	os.Remove(p) // a new file: the blob may be a hard link
	os.WriteFile(p, []byte("hello, World\n"), 0o644)
	err = read()
	if !errors.Is(err, ErrBlobDigest) || !strings.Contains(err.Error(), desc.Digest.String()) || !strings.Contains(err.Error(), "a greeting") {
		t.Errorf("corrupt blob: %v", err)
	}
	os.WriteFile(l.BlobPath(desc.Digest), []byte("hello, world, and more\n"), 0o644)
	if err := read(); !errors.Is(err, ErrBlobDigest) {
		t.Errorf("longer blob: %v", err)
	}
}

// A layout made by OpenLayout is one skopeo and umoci read: oci-layout,
// an index.json listing no manifests ([] not null), blobs/sha256; a tag
// replaces an image of the same name.
func TestOpenLayoutTag(t *testing.T) {
	dir := t.TempDir()
	l, err := OpenLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "index.json")); !strings.Contains(string(data), `"manifests": []`) {
		t.Errorf("index.json of a new layout: %s", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		t.Error(err)
	}
	a, _ := l.PutBytes("application/vnd.oci.image.manifest.v1+json", []byte(`{"a":1}`))
	b, _ := l.PutBytes("application/vnd.oci.image.manifest.v1+json", []byte(`{"b":2}`))
	for _, d := range []v1.Descriptor{a, b} {
		if err := l.Tag(d, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Tag(a, "w"); err != nil {
		t.Fatal(err)
	}
	idx, err := l.Index()
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 2 || idx.Manifests[0].Digest != a.Digest || idx.Manifests[1].Digest != b.Digest {
		t.Errorf("index after tagging x twice and w once: %+v", idx.Manifests)
	}
	if _, err := os.Stat(filepath.Join(dir, "deb2fs")); err == nil {
		t.Error("a plain layout got a deb2fs directory")
	}
}
