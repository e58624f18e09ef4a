package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/deb2fs/deb2fs/imagespec"
)

// Problem is one thing Verify found wrong in a store.
type Problem struct {
	// Path is what is wrong, relative to the store: a blob, index.json,
	// a record, a cache entry.
	Path string
	// What says what is wrong with it.
	What string
	// Repair says what --repair did about it, and what is left to do;
	// "" when nothing was repaired.
	Repair string
}

func (p Problem) String() string {
	s := p.Path + ": " + p.What
	if p.Repair != "" {
		s += " (repaired: " + p.Repair + ")"
	}
	return s
}

// Verify checks the store as fsck checks a file system: every blob hashes
// to its name, index.json parses and every image it lists has its
// manifest, config and layers present and intact, and every layer record
// points at present blobs. With repair it removes what is damaged: bad
// blobs, the index.json entries that need a missing or removed blob (each
// Problem says what to run again to get it back) and records of missing
// layers; the store then verifies. The compose caches are checked by
// compose.VerifyCache.
func (s *Store) Verify(repair bool) ([]Problem, error) {
	var ps []Problem
	bad, blobProblems, err := s.verifyBlobs(repair)
	if err != nil {
		return nil, err
	}
	ps = append(ps, blobProblems...)
	present := func(h v1.Hash) bool { return !bad[h] && s.HasBlob(h) }

	// Layer records.
	recs, _ := os.ReadDir(s.keyDir())
	for _, e := range recs {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		p := filepath.Join(s.keyDir(), e.Name())
		rel := filepath.Join("deb2fs", "layers", e.Name())
		data, err := os.ReadFile(p)
		var rec Record
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		what := ""
		switch {
		case err != nil:
			what = "unreadable record: " + err.Error()
		case !present(rec.Digest):
			what = fmt.Sprintf("%s %s: layer blob %s is missing or damaged", rec.Package, rec.Version, rec.Digest)
		case !present(rec.Manifest.Digest):
			what = fmt.Sprintf("%s %s: manifest blob %s is missing or damaged", rec.Package, rec.Version, rec.Manifest.Digest)
		default:
			continue
		}
		pr := Problem{Path: rel, What: what}
		if repair {
			if err := os.Remove(p); err != nil {
				return nil, err
			}
			pr.Repair = "record removed; `deb2fs mirror` converts the package again"
		}
		ps = append(ps, pr)
	}

	// index.json and the images it lists.
	idx, err := s.readIndex()
	if err != nil {
		return append(ps, Problem{Path: "index.json", What: err.Error()}), nil
	}
	var drop []string
	for _, d := range idx.Manifests {
		ref := d.Annotations[imagespec.AnnotationRefName]
		if ref == "" {
			ref = d.Digest.String()
		}
		if what := s.checkImage(d, present); what != "" {
			pr := Problem{Path: "index.json", What: fmt.Sprintf("tag %s: %s", ref, what)}
			if repair {
				drop = append(drop, ref)
				pr.Repair = "tag removed; " + redo(d)
			}
			ps = append(ps, pr)
		}
	}
	if len(drop) > 0 {
		if err := s.Untag(drop); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// redo says how to make an index.json entry again.
func redo(d v1.Descriptor) string {
	if p := d.Annotations[imagespec.AnnotationPackage]; p != "" {
		return fmt.Sprintf("`deb2fs mirror` converts %s %s again", p, d.Annotations[imagespec.AnnotationVersion])
	}
	if strings.HasPrefix(d.Annotations[imagespec.AnnotationRefName], "compose-") {
		return "compose the image again"
	}
	return "run `deb2fs mirror` (or the compose that made it) again"
}

// checkImage says what is wrong with the image (or index) d: "" if
// nothing.
func (s *Store) checkImage(d v1.Descriptor, present func(v1.Hash) bool) string {
	if !present(d.Digest) {
		return fmt.Sprintf("manifest %s is missing or damaged", d.Digest)
	}
	data, err := os.ReadFile(s.BlobPath(d.Digest))
	if err != nil {
		return err.Error()
	}
	if d.MediaType == types.OCIImageIndex || d.MediaType == types.DockerManifestList {
		idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
		if err != nil {
			return fmt.Sprintf("index %s: %v", d.Digest, err)
		}
		for _, c := range idx.Manifests {
			if what := s.checkImage(c, present); what != "" {
				return what
			}
		}
		return ""
	}
	m, err := v1.ParseManifest(bytes.NewReader(data))
	if err != nil {
		return fmt.Sprintf("manifest %s: %v", d.Digest, err)
	}
	if !present(m.Config.Digest) {
		return fmt.Sprintf("manifest %s: config %s is missing or damaged", d.Digest, m.Config.Digest)
	}
	for _, l := range m.Layers {
		if !present(l.Digest) {
			what := ""
			if p := l.Annotations[imagespec.AnnotationPackage]; p != "" {
				what = fmt.Sprintf(" (%s %s)", p, l.Annotations[imagespec.AnnotationVersion])
			}
			return fmt.Sprintf("manifest %s: layer %s%s is missing or damaged", d.Digest, l.Digest, what)
		}
	}
	return ""
}

// verifyBlobs hashes every blob against its name, in parallel, and
// returns the bad ones (removed with repair).
func (s *Store) verifyBlobs(repair bool) (map[v1.Hash]bool, []Problem, error) {
	ents, err := os.ReadDir(s.blobDir())
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	bad := map[v1.Hash]bool{}
	var ps []Problem
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for _, e := range ents {
		g.Go(func() error {
			h := v1.Hash{Algorithm: "sha256", Hex: e.Name()}
			what := hashFile(s.BlobPath(h), e.Name())
			if what == "" {
				return nil
			}
			pr := Problem{Path: filepath.Join("blobs", "sha256", e.Name()), What: what}
			if repair {
				if err := s.RemoveBlob(h); err != nil {
					return err
				}
				pr.Repair = "blob removed"
			}
			mu.Lock()
			bad[h] = true
			ps = append(ps, pr)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
	return bad, ps, nil
}

// hashFile says what is wrong with the blob file p named hex: "" when it
// is a regular file whose SHA256 is hex.
func hashFile(p, name string) string {
	f, err := os.Open(p)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "not a regular file"
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err.Error()
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != name {
		return fmt.Sprintf("blob sha256:%s is damaged: its content hashes to sha256:%s", name, got)
	}
	return ""
}
