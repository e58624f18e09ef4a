package inspect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/imageref"
	"github.com/deb2fs/deb2fs/imagespec"
)

// ErrNotFound is returned when a reference names no image.
var ErrNotFound = errors.New("no such image")

// Opener opens image references, as imageref parses them:
//
//   - oci:DIR[:TAG] — an OCI image layout directory; TAG is a ref name or
//     a manifest digest, and may be left out when the layout holds one
//     image;
//   - docker://REF, or HOST[:PORT]/REPO[:TAG|@DIGEST] whose HOST has a '.'
//     or a ':' or is localhost — an image in a registry (plain HTTP for
//     127.0.0.1 and localhost);
//   - TAG or sha256:DIGEST — an image in Store.
type Opener struct {
	// Store resolves bare tags (a *store.Store); nil means they are
	// refused.
	Store Layout
	// Catalog completes what annotations leave out; may be nil.
	Catalog *Catalog
	// Remote are options for registry requests (auth, transport).
	Remote []remote.Option
}

// Open reads the image ref names, reading its manifest and config only.
func (o *Opener) Open(ctx context.Context, ref string) (*Image, error) {
	r, err := imageref.Parse(ref)
	if err != nil {
		return nil, err
	}
	switch r.Transport {
	case imageref.OCI:
		return o.openLayout(ref, r.Path, r.Tag)
	case imageref.Registry:
		return o.openRemote(ctx, ref, r)
	case imageref.DockerArchive:
		return nil, fmt.Errorf("%s: deb2fs reads no docker-archive (compose to oci:DIR[:TAG] instead)", ref)
	}
	if o.Store == nil {
		return nil, fmt.Errorf("%s: no store to look the tag up in", ref)
	}
	return o.openLayout(ref, o.Store.Dir(), ref)
}

// openLayout reads the image tagged tag (or with manifest digest tag) in
// the layout dir.
func (o *Opener) openLayout(ref, dir, tag string) (*Image, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	var found []v1.Descriptor
	for _, d := range im.Manifests {
		if tag == "" || d.Annotations[imagespec.AnnotationRefName] == tag || d.Digest.String() == tag {
			found = append(found, d)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: %w in %s", ref, ErrNotFound, dir)
	}
	if len(found) > 1 && tag == "" {
		return nil, fmt.Errorf("%s: the layout holds %d images; name one (oci:%s:TAG)", ref, len(found), dir)
	}
	d := found[0]
	if d.MediaType.IsIndex() {
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		if d, err = pickPlatform(ref, child); err != nil {
			return nil, err
		}
		img, err := child.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		return Read(ref, img, o.Catalog)
	}
	return o.readLayoutManifest(ref, dir, d)
}

// readLayoutManifest reads the image whose manifest descriptor d is in
// the layout dir: the manifest blob, then the config blob.
func (o *Opener) readLayoutManifest(ref, dir string, d v1.Descriptor) (*Image, error) {
	blob := func(h v1.Hash) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex))
	}
	raw, err := blob(d.Digest)
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", ref, err)
	}
	return readParts(ref, raw, func(m *v1.Manifest) ([]byte, error) { return blob(m.Config.Digest) }, o.Catalog)
}

// openRemote reads an image from a registry: one manifest request (two
// for a multi-platform index) and one config blob request.
func (o *Opener) openRemote(ctx context.Context, ref string, at imageref.Ref) (*Image, error) {
	r, err := at.Reference()
	if err != nil {
		return nil, err
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return o.readRemote(ref, desc)
}

// readRemote reads the image a registry descriptor points at.
func (o *Opener) readRemote(ref string, desc *remote.Descriptor) (*Image, error) {
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		d, err := pickPlatform(ref, idx)
		if err != nil {
			return nil, err
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		return Read(ref, img, o.Catalog)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return readParts(ref, desc.Manifest, func(*v1.Manifest) ([]byte, error) { return img.RawConfigFile() }, o.Catalog)
}

// readParts reads an image from its raw manifest and, through config, its
// raw config.
func readParts(ref string, rawM []byte, config func(*v1.Manifest) ([]byte, error), cat *Catalog) (*Image, error) {
	m, err := v1.ParseManifest(bytes.NewReader(rawM))
	if err != nil {
		return nil, fmt.Errorf("%s: manifest: %w", ref, err)
	}
	if !m.Config.MediaType.IsConfig() {
		return nil, fmt.Errorf("%s: not an image (config media type %q)", ref, m.Config.MediaType)
	}
	digest, _, _ := v1.SHA256(bytes.NewReader(rawM))
	rawC, err := config(m)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawC))
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, err)
	}
	return fromManifest(ref, digest, int64(len(rawM)), m, cfg, int64(len(rawC)), cat), nil
}

// pickPlatform chooses the image of a multi-platform index: the only one,
// or the one for linux and this machine's architecture.
func pickPlatform(ref string, idx v1.ImageIndex) (v1.Descriptor, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("%s: %w", ref, err)
	}
	var imgs []v1.Descriptor
	for _, d := range im.Manifests {
		if d.MediaType.IsImage() {
			imgs = append(imgs, d)
		}
	}
	if len(imgs) == 1 {
		return imgs[0], nil
	}
	for _, d := range imgs {
		if d.Platform != nil && d.Platform.OS == "linux" && d.Platform.Architecture == runtime.GOARCH {
			return d, nil
		}
	}
	return v1.Descriptor{}, fmt.Errorf("%s: an index of %d images, none for linux/%s", ref, len(imgs), runtime.GOARCH)
}
