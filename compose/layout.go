package compose

import (
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

	"github.com/deb2fs/deb2fs/store"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// refNameKey names an image in an OCI layout's index.json.
const refNameKey = "org.opencontainers.image.ref.name"

// initLayout makes dir an OCI image layout if it is not one yet.
func initLayout(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(dir, filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.json")); errors.Is(err, fs.ErrNotExist) {
		return writeFileAtomic(dir, filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`+"\n"))
	}
	return nil
}

// outputBlobs adds blobs to the output layout dir and, when track is set
// (an --output layout, not the store), remembers those it added so that a
// failed compose removes them (discard): nothing half-written is left.
type outputBlobs struct {
	dir   string
	track bool
	added []v1.Hash
}

// copy makes the store's blob desc (already checked) available in the
// layout: a hard link when both are on one file system, else a copy,
// hashed again as it is read.
func (o *outputBlobs) copy(storeDir string, desc v1.Descriptor) error {
	if storeDir == o.dir || haveBlob(o.dir, desc.Digest, desc.Size) {
		return nil
	}
	from, to := blobPath(storeDir, desc.Digest), blobPath(o.dir, desc.Digest)
	if err := os.Link(from, to); err == nil {
		o.add(desc.Digest)
		return nil
	} else if errors.Is(err, fs.ErrExist) {
		return nil
	}
	r, err := openBlob(storeDir, desc, "a layer")
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := writeBlob(o.dir, func(w io.Writer) (v1.Descriptor, error) {
		_, err := io.Copy(w, r)
		return desc, err
	}); err != nil {
		return err
	}
	o.add(desc.Digest)
	return nil
}

// json writes v as a compact JSON blob of media type mt.
func (o *outputBlobs) json(mt types.MediaType, v any) (v1.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, err
	}
	sum := sha256.Sum256(data)
	had := haveBlob(o.dir, v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}, int64(len(data)))
	desc, err := writeBytesBlob(o.dir, mt, data)
	if err == nil && !had {
		o.add(desc.Digest)
	}
	return desc, err
}

func (o *outputBlobs) add(h v1.Hash) {
	if o.track {
		o.added = append(o.added, h)
	}
}

// discard removes the blobs added.
func (o *outputBlobs) discard() {
	for _, h := range o.added {
		os.Remove(blobPath(o.dir, h))
	}
	o.added = nil
}

// tag lists the manifest desc in the layout's index.json under ref,
// replacing an image of the same name; entries stay sorted by name. The
// index is replaced atomically under the layout's lock (the store's lock
// in a deb2fs store), so a concurrent store publish is not lost.
func tag(dir string, desc v1.Descriptor, ref string) error {
	unlock, err := lockLayout(dir)
	if err != nil {
		return err
	}
	defer unlock()
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return err
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(data, &idx); err != nil {
		return fmt.Errorf("%s/index.json: %w", dir, err)
	}
	desc.Annotations = map[string]string{refNameKey: ref}
	replaced := false
	for i, m := range idx.Manifests {
		if m.Annotations[refNameKey] == ref {
			idx.Manifests[i], replaced = desc, true
		}
	}
	if !replaced {
		idx.Manifests = append(idx.Manifests, desc)
	}
	sort.SliceStable(idx.Manifests, func(i, j int) bool {
		return idx.Manifests[i].Annotations[refNameKey] < idx.Manifests[j].Annotations[refNameKey]
	})
	if idx.MediaType == "" {
		idx.MediaType = types.OCIImageIndex
	}
	out, err := json.MarshalIndent(&idx, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(dir, filepath.Join(dir, "index.json"), append(out, '\n'))
}

// lockLayout takes the layout's exclusive lock: deb2fs/lock in a deb2fs
// store (the lock store.Publish takes), else .deb2fs.lock.
func lockLayout(dir string) (func(), error) {
	p := filepath.Join(dir, ".deb2fs.lock")
	if fi, err := os.Stat(filepath.Join(dir, "deb2fs")); err == nil && fi.IsDir() {
		p = filepath.Join(dir, "deb2fs", "lock")
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

// writeFileAtomic writes path through a temporary file and a rename.
func writeFileAtomic(dir, path string, data []byte) error {
	f, err := createTemp(dir)
	if err != nil {
		return err
	}
	return store.ReplaceFile(f, path, data)
}
