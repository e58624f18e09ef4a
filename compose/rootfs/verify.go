package rootfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/deb2fs/deb2fs/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// CheckUnpacked checks a cache entry of unpacked layers in the store dir:
// its meta.json, its stat manifest, and each entry of its blob against
// the tree.
func CheckUnpacked(s *store.Store, final string) error {
	h := v1.Hash{Algorithm: "sha256", Hex: filepath.Base(final)}
	u, err := ReadUnpacked(final, h)
	if err != nil {
		return err
	}
	if err := CheckStat(final); err != nil {
		return err
	}
	rc, err := OpenCheckedLayer(s.Layout().BlobPath(h), v1.Descriptor{Digest: h, MediaType: u.Meta.MediaType}, "the layer unpacked there")
	if err != nil {
		return err
	}
	defer rc.Close()
	return rc.Each("", func(hdr *tar.Header, r io.Reader) error {
		if err := sameEntry(u.Tree, hdr, r); err != nil {
			return fmt.Errorf("tree/%s: %w", strings.TrimPrefix(hdr.Name, "./"), err)
		}
		return nil
	})
}

// sameEntry compares a layer entry with the tree: the kind, a regular
// file's content, a symlink's target.
func sameEntry(tree string, hdr *tar.Header, r io.Reader) error {
	rel, err := Clean(hdr.Name)
	if err != nil || rel == "." {
		return err
	}
	p := filepath.Join(tree, rel)
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !fi.IsDir() {
			return errors.New("not a directory")
		}
	case tar.TypeReg, tar.TypeRegA:
		if !fi.Mode().IsRegular() || fi.Size() != hdr.Size {
			return fmt.Errorf("not a regular file of %d bytes", hdr.Size)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		same, err := sameContent(r, f)
		if err != nil {
			return err
		}
		if !same {
			return errors.New("content differs from the layer's")
		}
	case tar.TypeSymlink:
		if target, err := os.Readlink(p); err != nil || target != hdr.Linkname {
			return fmt.Errorf("not a symlink to %s", hdr.Linkname)
		}
	}
	return nil
}

// sameContent reports whether a and b read the same bytes.
func sameContent(a, b io.Reader) (bool, error) {
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if !bytes.Equal(ba[:na], bb[:nb]) {
			return false, nil
		}
		aEnd := ea == io.EOF || ea == io.ErrUnexpectedEOF
		bEnd := eb == io.EOF || eb == io.ErrUnexpectedEOF
		switch {
		case ea != nil && !aEnd:
			return false, ea
		case eb != nil && !bEnd:
			return false, eb
		case aEnd || bEnd:
			return aEnd && bEnd, nil
		}
	}
}
