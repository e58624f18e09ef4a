package compose

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/rootfs"
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
			if err := rootfs.CheckUnpacked(s, final); err != nil {
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
