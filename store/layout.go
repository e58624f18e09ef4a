package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/imagespec"
)

// Layout is an OCI image layout directory as deb2fs writes it: the store
// itself (Store.Layout) or an `oci:DIR` output (OpenLayout). A blob goes in
// through a temporary file renamed to its digest, so a failure leaves no
// blob behind; index.json is replaced atomically under the layout's lock;
// a blob is read back through a BlobReader, which checks it against its
// digest.
//
// In a deb2fs store, temporary files go to deb2fs/tmp named after the
// writer's pid (Open removes those of dead writers) and the lock is
// deb2fs/lock, the one the store's own publications take; in any other
// layout they are dot-files in its root.
type Layout struct {
	dir      string
	tmpDir   string // where temporary files go
	tmpName  string // their name pattern (os.CreateTemp)
	lockPath string
}

// OpenLayout opens the OCI image layout in dir for writing, making dir one
// (blobs/sha256, oci-layout, an empty index.json) where it is not yet.
func OpenLayout(dir string) (*Layout, error) {
	l := layoutIn(dir)
	if err := l.init(); err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return l, nil
}

// layoutIn is the Layout of dir, a deb2fs store's when dir holds one.
func layoutIn(dir string) *Layout {
	if fi, err := os.Stat(filepath.Join(dir, privateDir, "tmp")); err == nil && fi.IsDir() {
		return storeLayout(dir)
	}
	return &Layout{dir: dir, tmpDir: dir, tmpName: fmt.Sprintf(".deb2fs-%d-*", os.Getpid()), lockPath: filepath.Join(dir, ".deb2fs.lock")}
}

// storeLayout is the Layout of the deb2fs store in dir.
func storeLayout(dir string) *Layout {
	return &Layout{dir: dir, tmpDir: filepath.Join(dir, privateDir, "tmp"), tmpName: fmt.Sprintf("%d-*", os.Getpid()), lockPath: filepath.Join(dir, privateDir, "lock")}
}

// init makes the layout's directories, oci-layout and index.json where
// they are missing.
func (l *Layout) init() error {
	if err := os.MkdirAll(filepath.Join(l.dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(l.dir, "oci-layout")); errors.Is(err, fs.ErrNotExist) {
		if err := l.WriteFile(filepath.Join(l.dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(l.indexPath()); errors.Is(err, fs.ErrNotExist) {
		return l.writeIndex(&v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex})
	}
	return nil
}

// Dir is the layout's directory.
func (l *Layout) Dir() string { return l.dir }

func (l *Layout) indexPath() string { return filepath.Join(l.dir, "index.json") }

// BlobPath is where the layout keeps blob h.
func (l *Layout) BlobPath(h v1.Hash) string { return filepath.Join(l.dir, "blobs", h.Algorithm, h.Hex) }

// HasBlob reports whether the layout holds blob h as a regular file of n
// bytes (its content is checked when it is read).
func (l *Layout) HasBlob(h v1.Hash, n int64) bool {
	fi, err := os.Stat(l.BlobPath(h))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == n
}

// CreateTemp makes a temporary file on the layout's file system.
func (l *Layout) CreateTemp() (*os.File, error) {
	return os.CreateTemp(l.tmpDir, l.tmpName)
}

// WriteFile writes data to path, a file of the layout, through a temporary
// file and a rename, so a reader sees the old file or the new one.
func (l *Layout) WriteFile(path string, data []byte) error {
	tmp, err := l.CreateTemp()
	if err != nil {
		return err
	}
	return replaceFile(tmp, path, data)
}

// WriteBlob writes the blob that write streams (and describes) through a
// temporary file renamed to the digest write returns: a failure leaves no
// blob behind.
func (l *Layout) WriteBlob(write func(io.Writer) (v1.Descriptor, error)) (v1.Descriptor, error) {
	f, err := l.CreateTemp()
	if err != nil {
		return v1.Descriptor{}, err
	}
	defer os.Remove(f.Name())
	desc, err := write(f)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return v1.Descriptor{}, err
	}
	return desc, os.Rename(f.Name(), l.BlobPath(desc.Digest))
}

// PutBytes stores data as a blob of media type mt, unless the layout holds
// these bytes already, and returns its descriptor.
func (l *Layout) PutBytes(mt types.MediaType, data []byte) (v1.Descriptor, error) {
	desc, _, err := l.Put(mt, data)
	return desc, err
}

// Put is PutBytes, also saying whether the blob was added (false: the
// layout held it already).
func (l *Layout) Put(mt types.MediaType, data []byte) (desc v1.Descriptor, added bool, err error) {
	sum := sha256.Sum256(data)
	desc = v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}
	if old, err := os.ReadFile(l.BlobPath(desc.Digest)); err == nil && bytes.Equal(old, data) {
		return desc, false, nil
	}
	if err := l.WriteFile(l.BlobPath(desc.Digest), data); err != nil {
		return v1.Descriptor{}, false, fmt.Errorf("%s: blob %s: %w", l.dir, desc.Digest, err)
	}
	return desc, true, nil
}

// PutJSON stores v, as compact JSON, as a blob of media type mt.
func (l *Layout) PutJSON(mt types.MediaType, v any) (v1.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return l.PutBytes(mt, data)
}

// OpenBlob opens the layout's blob desc for a read checked against its
// digest; what names it in errors (a package and version, "the configure
// layer").
func (l *Layout) OpenBlob(desc v1.Descriptor, what string) (*BlobReader, error) {
	return OpenBlobFile(l.BlobPath(desc.Digest), desc, what)
}

// CopyBlob makes blob desc of from (its content checked when it is
// copied) present in l: a hard link when both are on one file system, else
// a copy hashed as it is read. added is false when l held it already.
func (l *Layout) CopyBlob(from *Layout, desc v1.Descriptor) (added bool, err error) {
	if from.dir == l.dir || l.HasBlob(desc.Digest, desc.Size) {
		return false, nil
	}
	if err := os.Link(from.BlobPath(desc.Digest), l.BlobPath(desc.Digest)); err == nil {
		return true, nil
	} else if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	r, err := from.OpenBlob(desc, "a layer")
	if err != nil {
		return false, err
	}
	defer r.Close()
	if _, err := l.WriteBlob(func(w io.Writer) (v1.Descriptor, error) {
		_, err := io.Copy(w, r)
		return desc, err
	}); err != nil {
		return false, err
	}
	return true, nil
}

// RemoveBlobs removes the blobs hs (a failed output's, which no manifest
// names).
func (l *Layout) RemoveBlobs(hs []v1.Hash) {
	for _, h := range hs {
		os.Remove(l.BlobPath(h))
	}
}

// Lock takes the layout's exclusive lock, waiting for another writer to
// release it; the returned function releases it.
func (l *Layout) Lock() (func(), error) {
	f, err := os.OpenFile(l.lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: lock: %w", l.dir, err)
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// Index reads the layout's index.json.
func (l *Layout) Index() (*v1.IndexManifest, error) {
	f, err := os.Open(l.indexPath())
	if err != nil {
		return nil, err
	}
	defer f.Close()
	idx, err := v1.ParseIndexManifest(f)
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", l.dir, err)
	}
	return idx, nil
}

func (l *Layout) writeIndex(idx *v1.IndexManifest) error {
	data, err := marshalIndex(idx)
	if err != nil {
		return err
	}
	return l.WriteFile(l.indexPath(), data)
}

// Tag lists the manifest desc in index.json under ref (its
// AnnotationRefName), replacing an image of that name; entries stay sorted
// by name. The index is replaced under the layout's lock, so a concurrent
// publication is not lost.
func (l *Layout) Tag(desc v1.Descriptor, ref string) error {
	desc.Annotations = map[string]string{imagespec.AnnotationRefName: ref}
	return l.updateIndex(func(idx *v1.IndexManifest) error {
		putTagged(idx, []v1.Descriptor{desc})
		return nil
	})
}

// updateIndex changes index.json with change, under the layout's lock,
// and replaces it atomically unless it came out the same.
func (l *Layout) updateIndex(change func(*v1.IndexManifest) error) error {
	unlock, err := l.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	old, err := os.ReadFile(l.indexPath())
	if err != nil {
		return err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(old))
	if err != nil {
		return fmt.Errorf("%s: index.json: %w", l.dir, err)
	}
	if err := change(idx); err != nil {
		return err
	}
	if idx.MediaType == "" {
		idx.MediaType = types.OCIImageIndex
	}
	data, err := marshalIndex(idx)
	if err != nil || bytes.Equal(old, data) {
		return err
	}
	return l.WriteFile(l.indexPath(), data)
}

// putTagged adds each of ds to idx, replacing the entry of the same ref
// name (AnnotationRefName), and sorts the entries by ref name, so that
// index.json is the same whatever order images were tagged in.
func putTagged(idx *v1.IndexManifest, ds []v1.Descriptor) {
	byRef := map[string]int{}
	for i, d := range idx.Manifests {
		byRef[d.Annotations[imagespec.AnnotationRefName]] = i
	}
	for _, d := range ds {
		ref := d.Annotations[imagespec.AnnotationRefName]
		if i, ok := byRef[ref]; ok {
			idx.Manifests[i] = d
			continue
		}
		byRef[ref] = len(idx.Manifests)
		idx.Manifests = append(idx.Manifests, d)
	}
	sort.SliceStable(idx.Manifests, func(i, j int) bool {
		return idx.Manifests[i].Annotations[imagespec.AnnotationRefName] < idx.Manifests[j].Annotations[imagespec.AnnotationRefName]
	})
}
