package compose

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/store"
)

// VerifyCache checks compose's caches in the store s (what `deb2fs verify`
// adds to store.Verify): each unpacked tree against its stat manifest and,
// file by file, against the blob it was unpacked from (which is hashed);
// each cached configure layer and group layer, its record and its blob.
// With repair it removes every bad entry: compose makes it again when it
// needs it.
func VerifyCache(s *store.Store, repair bool) ([]store.Problem, error) {
	dir := s.Dir()
	var ps []store.Problem
	add := func(rel, what string, remove func() error) error {
		p := store.Problem{Path: rel, What: what}
		if repair {
			if err := remove(); err != nil {
				return err
			}
			p.Repair = "removed; compose makes it again"
		}
		ps = append(ps, p)
		return nil
	}
	rel := func(p string) string { r, _ := filepath.Rel(dir, p); return r }

	roots, _ := filepath.Glob(s.Area(store.AreaUnpacked) + "-*")
	for _, root := range roots {
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "tmp-") {
				continue // a running compose's, or removed by the next one
			}
			final := filepath.Join(root, e.Name())
			if err := checkUnpacked(s, final); err != nil {
				if err := add(rel(final), strings.TrimPrefix(err.Error(), final+": "), func() error { return os.RemoveAll(final) }); err != nil {
					return nil, err
				}
			}
		}
	}

	chk := store.NewChecks(s.Layout())
	recs, _ := filepath.Glob(filepath.Join(s.Area(store.AreaCompose), "*.json"))
	for _, p := range recs {
		var rec cacheRecord
		data, err := os.ReadFile(p)
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		key := strings.TrimSuffix(filepath.Base(p), ".json")
		switch {
		case err != nil:
		case rec.Key != key:
			err = fmt.Errorf("the record is for key %s", rec.Key)
		default:
			err = checkRecordBlob(s, chk, rec.Layer, "the cached configure layer")
		}
		if err != nil {
			rec.Key = key
			if err := add(rel(p), err.Error(), func() error { return dropCache(s, &rec) }); err != nil {
				return nil, err
			}
		}
	}
	groups, _ := filepath.Glob(filepath.Join(s.Area(store.AreaGroups), "*.json"))
	for _, p := range groups {
		var rec groupRecord
		data, err := os.ReadFile(p)
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		if err == nil {
			err = checkRecordBlob(s, chk, rec.Layer, "a cached group layer")
		}
		if err != nil {
			remove := func() error {
				if rec.Layer.Digest.Hex != "" && errors.Is(err, store.ErrBlobDigest) {
					os.Remove(s.Layout().BlobPath(rec.Layer.Digest))
				}
				return os.Remove(p)
			}
			if err := add(rel(p), err.Error(), remove); err != nil {
				return nil, err
			}
		}
	}
	return ps, nil
}

// checkRecordBlob checks that a cached layer's blob is there and intact.
func checkRecordBlob(s *store.Store, chk *store.Checks, d v1.Descriptor, what string) error {
	if !s.Layout().HasBlob(d.Digest, d.Size) {
		return fmt.Errorf("%s: blob %s is missing", what, d.Digest)
	}
	return chk.Check(d, what)
}

// checkUnpacked checks a cache entry of unpacked layers in the store dir:
// its meta.json, its stat manifest, and each entry of its blob against
// the tree.
func checkUnpacked(s *store.Store, final string) error {
	h := v1.Hash{Algorithm: "sha256", Hex: filepath.Base(final)}
	u, err := readUnpacked(final, h)
	if err != nil {
		return err
	}
	if err := checkStat(final); err != nil {
		return err
	}
	rc, err := openCheckedLayer(s.Layout().BlobPath(h), v1.Descriptor{Digest: h, MediaType: u.meta.MediaType}, "the layer unpacked there")
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return rc.end(nil)
		}
		if err != nil {
			return rc.end(err)
		}
		if err := sameEntry(u.tree, hdr, tr); err != nil {
			return rc.end(fmt.Errorf("tree/%s: %w", strings.TrimPrefix(hdr.Name, "./"), err))
		}
	}
}

// sameEntry compares a layer entry with the tree: the kind, a regular
// file's content, a symlink's target.
func sameEntry(tree string, hdr *tar.Header, r io.Reader) error {
	rel, err := clean(hdr.Name)
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
