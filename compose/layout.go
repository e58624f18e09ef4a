package compose

import (
	"encoding/json"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/store"
)

// outputBlobs adds an image's blobs to the layout it goes to and, when
// track is set (an --output layout, not the store), remembers those it
// added so that a failed compose removes them (discard): nothing
// half-written is left.
type outputBlobs struct {
	to    *store.Layout
	track bool
	added []v1.Hash
}

// copy makes the store's blob desc (already checked) available in the
// output layout.
func (o *outputBlobs) copy(from *store.Layout, desc v1.Descriptor) error {
	added, err := o.to.CopyBlob(from, desc)
	if added {
		o.add(desc.Digest)
	}
	return err
}

// json writes v as a compact JSON blob of media type mt.
func (o *outputBlobs) json(mt types.MediaType, v any) (v1.Descriptor, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc, added, err := o.to.Put(mt, data)
	if added {
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
	o.to.RemoveBlobs(o.added)
	o.added = nil
}
