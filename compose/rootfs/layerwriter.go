package rootfs

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/convert"
)

// LayerWriter writes the layers compose makes (the base, group and
// configure layers) as tar+gzip in one pass, with convert's writer: the
// package layers' gzip level, hashed while written. Changing that level
// changes every configure layer's digest, so it is part of [FormatVersion].
type LayerWriter struct {
	*convert.LayerWriter
}

func NewLayerWriter(w io.Writer) *LayerWriter {
	lw, _ := convert.NewLayerWriter(w, convert.Gzip) // gzip cannot fail to start
	return &LayerWriter{lw}
}

// Close finishes the layer and returns its descriptor and diffID.
func (lw *LayerWriter) Close() (v1.Descriptor, v1.Hash, error) {
	digest, diffID, size, err := lw.LayerWriter.Close()
	if err != nil {
		return v1.Descriptor{}, v1.Hash{}, err
	}
	return v1.Descriptor{MediaType: types.OCILayer, Size: size, Digest: digest}, diffID, nil
}
