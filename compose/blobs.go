package compose

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
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

// ErrBlobDigest is a blob whose bytes do not hash to its digest: a damaged
// store (`deb2fs verify --repair` drops it) or output layout.
var ErrBlobDigest = errors.New("content does not match its digest")

// blobReader reads a blob file, hashing and counting its bytes; at the
// end of the file, or past the expected size, it fails with ErrBlobDigest
// unless the bytes are the blob its descriptor names. A size of 0 is not
// checked (only the digest).
type blobReader struct {
	f    *os.File
	h    hash.Hash
	n    int64
	desc v1.Descriptor
	what string
	err  error
}

// openBlobFile opens the file p holding the blob desc; what names it in
// errors (a package and version, "the configure layer").
func openBlobFile(p string, desc v1.Descriptor, what string) (*blobReader, error) {
	if desc.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s (%s): unsupported digest algorithm", desc.Digest, what)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("blob %s (%s): %w", desc.Digest, what, err)
	}
	return &blobReader{f: f, h: sha256.New(), desc: desc, what: what}, nil
}

// openBlob opens blob desc of the layout in dir.
func openBlob(dir string, desc v1.Descriptor, what string) (*blobReader, error) {
	return openBlobFile(blobPath(dir, desc.Digest), desc, what)
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.f.Read(p)
	b.h.Write(p[:n])
	b.n += int64(n)
	switch {
	case b.desc.Size > 0 && b.n > b.desc.Size:
		b.err = b.mismatch()
	case err == io.EOF:
		if got := hex.EncodeToString(b.h.Sum(nil)); got != b.desc.Digest.Hex || (b.desc.Size > 0 && b.n != b.desc.Size) {
			b.err = b.mismatch()
		} else {
			b.err = io.EOF
		}
	case err != nil:
		b.err = fmt.Errorf("blob %s (%s): %w", b.desc.Digest, b.what, err)
	}
	return n, b.err
}

func (b *blobReader) mismatch() error {
	if b.desc.Size > 0 && b.n != b.desc.Size {
		return fmt.Errorf("blob %s (%s): %w: %d bytes or more, want %d", b.desc.Digest, b.what, ErrBlobDigest, b.n, b.desc.Size)
	}
	return fmt.Errorf("blob %s (%s): %w: it hashes to sha256:%s", b.desc.Digest, b.what, ErrBlobDigest, hex.EncodeToString(b.h.Sum(nil)))
}

// finish reads the rest of the blob and returns nil if all of it was the
// blob named, else the mismatch (or read error).
func (b *blobReader) finish() error {
	_, err := io.Copy(io.Discard, b)
	return err
}

func (b *blobReader) Close() error { return b.f.Close() }

// blobChecks hashes blobs of the layout dir against their digests and
// remembers those found right, so one compose hashes a blob once.
type blobChecks struct {
	dir string
	mu  sync.Mutex
	ok  map[v1.Hash]bool
}

func newBlobChecks(dir string) *blobChecks {
	return &blobChecks{dir: dir, ok: map[v1.Hash]bool{}}
}

// mark records that blob h was checked (read through a blobReader to its
// end, or written by this run from a stream hashed as written).
func (b *blobChecks) mark(h v1.Hash) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.ok[h] = true
	b.mu.Unlock()
}

func (b *blobChecks) done(h v1.Hash) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ok[h]
}

// check hashes blob desc unless it was checked already.
func (b *blobChecks) check(desc v1.Descriptor, what string) error {
	if b.done(desc.Digest) {
		return nil
	}
	r, err := openBlob(b.dir, desc, what)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := r.finish(); err != nil {
		return err
	}
	b.mark(desc.Digest)
	return nil
}

// checkLayers hashes the image's layer blobs in the store (those this run
// did not check yet), in parallel; whats name them in errors.
func (c *composer) checkLayers(layers []v1.Descriptor, whats []string) error {
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	for i, l := range layers {
		g.Go(func() error { return c.checks.check(l, whats[i]) })
	}
	return g.Wait()
}

// checkedImage is an image of the layout dir whose layer blobs are hashed
// as a push or an archive reads them (blobReader): what is sent is the
// blob its manifest names, or the read fails.
type checkedImage struct {
	v1.Image
	dir string
}

func (i checkedImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for n, l := range ls {
		out[n] = checkedLayer{l, i.dir}
	}
	return out, nil
}

func (i checkedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return checkedLayer{l, i.dir}, nil
}

type checkedLayer struct {
	v1.Layer
	dir string
}

func (l checkedLayer) Compressed() (io.ReadCloser, error) {
	d, err := l.Digest()
	if err != nil {
		return nil, err
	}
	n, err := l.Size()
	if err != nil {
		return nil, err
	}
	return openBlob(l.dir, v1.Descriptor{Digest: d, Size: n}, "a layer")
}
