package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// blobPath is where an OCI image layout in dir keeps the blob h.
func blobPath(dir string, h v1.Hash) string {
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
}

// createTemp makes a temporary file for a blob of the layout in dir. In a
// deb2fs store it goes to the store's temporary directory with the pid
// prefix the store uses to clean up after killed runs; elsewhere it is a
// dot-file in the layout's root, renamed away on success.
func createTemp(dir string) (*os.File, error) {
	tmp := filepath.Join(dir, "deb2fs", "tmp")
	if fi, err := os.Stat(tmp); err == nil && fi.IsDir() {
		return os.CreateTemp(tmp, fmt.Sprintf("%d-compose-*", os.Getpid()))
	}
	return os.CreateTemp(dir, fmt.Sprintf(".deb2fs-%d-*", os.Getpid()))
}

// writeBlob writes the blob that write produces into the layout in dir,
// through a temporary file renamed to its digest: a failure leaves no
// blob behind.
func writeBlob(dir string, write func(io.Writer) (v1.Descriptor, error)) (v1.Descriptor, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return v1.Descriptor{}, err
	}
	f, err := createTemp(dir)
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
	return desc, os.Rename(f.Name(), blobPath(dir, desc.Digest))
}

// writeJSONBlob writes v as compact JSON blob of media type mt.
func writeJSONBlob(dir string, mt types.MediaType, v any) (v1.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return writeBytesBlob(dir, mt, data)
}

// writeBytesBlob stores data as a blob unless the layout already has it.
func writeBytesBlob(dir string, mt types.MediaType, data []byte) (v1.Descriptor, error) {
	sum := sha256.Sum256(data)
	desc := v1.Descriptor{MediaType: mt, Size: int64(len(data)), Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}}
	if old, err := os.ReadFile(blobPath(dir, desc.Digest)); err == nil && bytes.Equal(old, data) {
		return desc, nil
	}
	return writeBlob(dir, func(w io.Writer) (v1.Descriptor, error) {
		_, err := w.Write(data)
		return desc, err
	})
}

// haveBlob reports whether the layout in dir has blob h with size n.
func haveBlob(dir string, h v1.Hash, n int64) bool {
	fi, err := os.Stat(blobPath(dir, h))
	return err == nil && fi.Mode().IsRegular() && fi.Size() == n
}
