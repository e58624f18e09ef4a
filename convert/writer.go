package convert

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// gzipLevel is the gzip level of package layers: level 6 compresses about
// 12% better than level 1 and klauspost's encoder still outruns the xz
// decoder feeding it (research/golibs.md §3).
const gzipLevel = 6

// LayerWriter is the write side of the single pass: a tar writer whose
// bytes are hashed (the diffID) and compressed, and whose compressed bytes
// are hashed (the digest), counted and written out. No byte is read twice.
// Compose writes its base and configure layers with it too.
type LayerWriter struct {
	*tar.Writer
	comp      io.WriteCloser
	diffHash  hash.Hash
	blobHash  hash.Hash
	buf       *bufio.Writer
	countBlob *countWriter
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

// NewLayerWriter returns a LayerWriter writing the compressed layer to w.
func NewLayerWriter(w io.Writer, compression Compression) (*LayerWriter, error) {
	lw := &LayerWriter{diffHash: sha256.New(), blobHash: sha256.New(), buf: bufio.NewWriterSize(w, 1<<20)}
	lw.countBlob = &countWriter{w: io.MultiWriter(lw.buf, lw.blobHash)}
	var err error
	switch compression {
	case Zstd:
		// One goroutine per encoder: parallelism comes from the worker
		// pool, and the output is the same bytes on every machine.
		lw.comp, err = zstd.NewWriter(lw.countBlob, zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(1))
	default:
		lw.comp, err = gzip.NewWriterLevel(lw.countBlob, gzipLevel)
	}
	if err != nil {
		return nil, err
	}
	lw.Writer = tar.NewWriter(io.MultiWriter(lw.comp, lw.diffHash))
	return lw, nil
}

// Close finishes the tar and the compressed stream and returns the blob's
// digest, the tar's diffID and the blob's size.
func (lw *LayerWriter) Close() (digest, diffID v1.Hash, size int64, err error) {
	if err = lw.Writer.Close(); err != nil {
		return
	}
	if err = lw.comp.Close(); err != nil {
		return
	}
	if err = lw.buf.Flush(); err != nil {
		return
	}
	digest = v1.Hash{Algorithm: "sha256", Hex: hexOf(lw.blobHash)}
	diffID = v1.Hash{Algorithm: "sha256", Hex: hexOf(lw.diffHash)}
	return digest, diffID, lw.countBlob.n, nil
}

func hexOf(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
