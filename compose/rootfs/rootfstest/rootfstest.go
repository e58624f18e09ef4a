// Package rootfstest makes layers for tests of the code that applies
// them: small gzip layers from tar headers, and a layer's entries listed.
package rootfstest

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/compose/rootfs"
)

// TarLayer writes a gzip layer of the given headers (content = the
// header's Linkname for regular files, to keep the table short) into dir, named
// by its digest (the OCI layout way: dir is blobs/sha256), and returns its path.
func TarLayer(t *testing.T, dir string, hdrs ...tar.Header) string {
	t.Helper()
	var buf bytes.Buffer
	lw := rootfs.NewLayerWriter(&buf)
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

// HashOf is the digest of the layer TarLayer wrote to p.
func HashOf(p string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: filepath.Base(p)} }

// LayerEntries lists a gzip layer's entries as "TYPE NAME[ -> LINK]".
func LayerEntries(t *testing.T, data []byte) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "layer")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := rootfs.OpenLayer(p, types.OCILayer)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		e := string(hdr.Typeflag) + " " + hdr.Name
		if hdr.Linkname != "" {
			e += " -> " + hdr.Linkname
		}
		out = append(out, e)
	}
}
