package compose

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
)

// gzipLevel is the compression level of the layers compose makes (the base
// and configure layers): the package layers' default. Changing it changes
// every configure layer's digest, so it is part of [FormatVersion].
const gzipLevel = 6

// layerWriter writes a tar+gzip layer in one pass, hashing the tar (the
// diffID) and the compressed bytes (the digest).
type layerWriter struct {
	*tar.Writer
	gz       *gzip.Writer
	diffHash hash.Hash
	blobHash hash.Hash
	buf      *bufio.Writer
	n        countWriter
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newLayerWriter(w io.Writer) *layerWriter {
	lw := &layerWriter{diffHash: sha256.New(), blobHash: sha256.New(), buf: bufio.NewWriterSize(w, 1<<20)}
	lw.n.w = io.MultiWriter(lw.buf, lw.blobHash)
	lw.gz, _ = gzip.NewWriterLevel(&lw.n, gzipLevel) // the level is valid
	lw.Writer = tar.NewWriter(io.MultiWriter(lw.gz, lw.diffHash))
	return lw
}

// Close finishes the layer and returns its descriptor and diffID.
func (lw *layerWriter) Close() (v1.Descriptor, v1.Hash, error) {
	if err := lw.Writer.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := lw.gz.Close(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	if err := lw.buf.Flush(); err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	desc := v1.Descriptor{
		MediaType: types.OCILayer,
		Size:      lw.n.n,
		Digest:    v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(lw.blobHash.Sum(nil))},
	}
	return desc, v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(lw.diffHash.Sum(nil))}, nil
}
