package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrBlobDigest is a blob whose bytes do not hash to its digest: a damaged
// store (`deb2fs verify --repair` drops it) or output layout.
var ErrBlobDigest = errors.New("content does not match its digest")

// BlobReader reads a blob file, hashing and counting its bytes; at the end
// of the file, or past the expected size, it fails with ErrBlobDigest
// unless the bytes are the blob its descriptor names. A size of 0 is not
// checked (only the digest).
type BlobReader struct {
	f    *os.File
	h    hash.Hash
	n    int64
	desc v1.Descriptor
	what string
	err  error
}

// OpenBlobFile opens the file p holding the blob desc; what names it in
// errors (a package and version, "the configure layer").
func OpenBlobFile(p string, desc v1.Descriptor, what string) (*BlobReader, error) {
	if desc.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("blob %s (%s): unsupported digest algorithm", desc.Digest, what)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("blob %s (%s): %w", desc.Digest, what, err)
	}
	return &BlobReader{f: f, h: sha256.New(), desc: desc, what: what}, nil
}

func (b *BlobReader) Read(p []byte) (int, error) {
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

func (b *BlobReader) mismatch() error {
	if b.desc.Size > 0 && b.n != b.desc.Size {
		return fmt.Errorf("blob %s (%s): %w: %d bytes or more, want %d", b.desc.Digest, b.what, ErrBlobDigest, b.n, b.desc.Size)
	}
	return fmt.Errorf("blob %s (%s): %w: it hashes to sha256:%s", b.desc.Digest, b.what, ErrBlobDigest, hex.EncodeToString(b.h.Sum(nil)))
}

// Finish reads the rest of the blob and returns nil if all of it was the
// blob named, else the mismatch (or read error).
func (b *BlobReader) Finish() error {
	_, err := io.Copy(io.Discard, b)
	return err
}

func (b *BlobReader) Close() error { return b.f.Close() }
