package output

import (
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/store"
)

// checkedImage is an image of the output layout whose layer blobs are hashed
// as a push or an archive reads them (store.BlobReader): what is sent is the
// blob its manifest names, or the read fails.
type checkedImage struct {
	v1.Image
	lay *store.Layout
}

func (i checkedImage) Layers() ([]v1.Layer, error) {
	ls, err := i.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for n, l := range ls {
		out[n] = checkedLayer{l, i.lay}
	}
	return out, nil
}

func (i checkedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	l, err := i.Image.LayerByDigest(h)
	if err != nil {
		return nil, err
	}
	return checkedLayer{l, i.lay}, nil
}

type checkedLayer struct {
	v1.Layer
	lay *store.Layout
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
	return l.lay.OpenBlob(v1.Descriptor{Digest: d, Size: n}, "a layer")
}
