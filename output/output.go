// Package output is where a composed image goes: the store, an OCI image
// layout directory, a docker-archive tar, or a registry. Each kind is one
// implementation of Output.
//
// compose writes every image into an OCI layout first (the Output's
// Layout: the layout directory itself, or the store for the other kinds)
// and tags it there; Send then delivers it from that layout, reading each
// layer through a check against its digest.
package output

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imageref"
	"github.com/deb2fs/deb2fs/store"
)

// Output is an image destination.
type Output interface {
	// Layout is the OCI layout the image is written and tagged in, and
	// whether the blobs added to it are the output's own (a failed compose
	// removes them; never the store's).
	Layout(st *store.Store) (l *store.Layout, own bool, err error)
	// Name is the image's name asked for: its ref name in the layout and
	// the archive's tag; "" leaves it to compose (compose-PKG-PKG…).
	Name() string
	// Send delivers the image (its manifest digest, tagged name in l) and
	// says where it went.
	Send(ctx context.Context, l *store.Layout, manifest v1.Hash, name string) (Sent, error)
}

// Sent is where an image went.
type Sent struct {
	// Ref is the image's reference: oci:DIR:TAG, docker-archive:FILE or
	// docker://REGISTRY/REPO[:TAG].
	Ref string
	// Pushed counts what a push to a registry uploaded.
	Pushed PushStats
}

// Store is the store itself: the image is tagged in its index.json.
type Store struct {
	Tag string // "": compose's default
}

func (o Store) Layout(st *store.Store) (*store.Layout, bool, error) { return st.Layout(), false, nil }
func (o Store) Name() string                                        { return o.Tag }
func (o Store) Send(_ context.Context, l *store.Layout, _ v1.Hash, name string) (Sent, error) {
	return Sent{Ref: "oci:" + l.Dir() + ":" + name}, nil
}

// Layout is an OCI image layout directory (made when missing), which
// skopeo, umoci and podman read as oci:DIR:TAG.
type Layout struct {
	Dir string
	Tag string // "": compose's default
}

func (o Layout) Layout(*store.Store) (*store.Layout, bool, error) {
	l, err := store.OpenLayout(o.Dir)
	return l, true, err
}
func (o Layout) Name() string { return o.Tag }
func (o Layout) Send(_ context.Context, l *store.Layout, _ v1.Hash, name string) (Sent, error) {
	return Sent{Ref: "oci:" + l.Dir() + ":" + name}, nil
}

// DockerArchive is a tar for `docker load` and `podman load`, holding the
// image as deb2fs/TAG:latest; the image is tagged in the store too.
type DockerArchive struct {
	File string
	Tag  string // "": compose's default
}

func (o DockerArchive) Layout(st *store.Store) (*store.Layout, bool, error) {
	return st.Layout(), false, nil
}
func (o DockerArchive) Name() string { return o.Tag }
func (o DockerArchive) Send(_ context.Context, l *store.Layout, manifest v1.Hash, name string) (Sent, error) {
	if err := writeDockerArchive(l, manifest, o.File, name); err != nil {
		return Sent{}, err
	}
	return Sent{Ref: "docker-archive:" + o.File}, nil
}

// Registry is a push to a registry repository; the image is tagged in the
// store too.
type Registry struct {
	// Ref is REGISTRY/REPO[:TAG]; plain HTTP for 127.0.0.1 and localhost.
	Ref string
	// MountFrom is a registry repository, REGISTRY/REPO, that holds the
	// package layers: the mirror's (`deb2fs mirror --store
	// REGISTRY/REPO`). When it is on Ref's registry, each layer Ref's
	// repository lacks is mounted from it (a cross-repository blob mount)
	// instead of uploaded; a layer the registry cannot mount (not in
	// MountFrom, or one compose made) is uploaded. "" mounts nothing.
	MountFrom string
	// Transport, if set, carries the push's HTTP requests (tests count
	// them).
	Transport http.RoundTripper
	// Tag is the image's name in the store ("": compose's default); the
	// registry's tag is Ref's.
	Tag string
}

func (o Registry) Layout(st *store.Store) (*store.Layout, bool, error) {
	return st.Layout(), false, nil
}
func (o Registry) Name() string { return o.Tag }
func (o Registry) Send(ctx context.Context, l *store.Layout, manifest v1.Hash, _ string) (Sent, error) {
	stats, err := push(ctx, l, manifest, o.Ref, o.MountFrom, o.Transport)
	if err != nil {
		return Sent{}, err
	}
	return Sent{Ref: "docker://" + o.Ref, Pushed: stats}, nil
}

// MountFromMirror is o with MountFrom set to mirrored, the registry
// repository the store's index was published to (index.RemoteOf), when
// MountFrom is not set, mirrored is on the same registry as Ref and is
// another repository of it.
func (o Registry) MountFromMirror(mirrored string) Registry {
	if o.MountFrom != "" || mirrored == "" {
		return o
	}
	to, err := name.ParseReference(o.Ref)
	if err != nil {
		return o
	}
	from, err := name.NewRepository(mirrored)
	if err != nil {
		return o
	}
	if from.Registry.String() != to.Context().Registry.String() || from.String() == to.Context().String() {
		return o
	}
	o.MountFrom = mirrored
	return o
}

// Parse parses --output as imageref does: oci:DIR[:TAG],
// docker-archive:FILE[:TAG], a registry reference (docker://REF, or
// REGISTRY/REPO[:TAG] whose REGISTRY has a '.' or a ':' or is localhost),
// or "" for the store.
func Parse(s string) (Output, error) {
	r, err := imageref.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("--output %w", err)
	}
	switch r.Transport {
	case imageref.Registry:
		return Registry{Ref: r.Path}, nil
	case imageref.OCI:
		if r.Path == "" {
			return Store{Tag: r.Tag}, nil
		}
		return Layout{Dir: r.Path, Tag: r.Tag}, nil
	case imageref.DockerArchive:
		return DockerArchive{File: r.Path, Tag: r.Tag}, nil
	}
	if s != "" {
		return nil, fmt.Errorf("--output %q: want oci:DIR[:TAG], docker-archive:FILE[:TAG] or docker://REGISTRY/REPO[:TAG]", s)
	}
	return Store{}, nil
}

// WithTag is out named tag (a registry's image is named so in the store;
// its tag in the registry is Ref's). It fails when out names another tag already.
func WithTag(out Output, tag string) (Output, error) {
	if tag == "" {
		return out, nil
	}
	if n := out.Name(); n != "" && n != tag {
		return nil, fmt.Errorf("--tag %s and --output name two tags (%s)", tag, n)
	}
	switch o := out.(type) {
	case Store:
		o.Tag = tag
		return o, nil
	case Layout:
		o.Tag = tag
		return o, nil
	case DockerArchive:
		o.Tag = tag
		return o, nil
	case Registry:
		o.Tag = tag
		return o, nil
	}
	return out, nil
}
