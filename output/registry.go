package output

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/deb2fs/deb2fs/store"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushStats count what a push sent.
type PushStats struct {
	// Blobs is the number of blobs uploaded (layers and config); the
	// registry had the others, or mounted them.
	Blobs int
	// Mounted is the number of layers the registry mounted from the
	// MountFrom repository instead of receiving them (a cross-repository
	// mount it answered 201 Created).
	Mounted int
}

// push copies the image whose manifest is digest in the layout dir to the
// registry reference ref (REGISTRY/REPO:TAG; plain HTTP for 127.0.0.1 and
// localhost). Blobs the repository already holds are not uploaded. With
// mountFrom (REGISTRY/REPO, see Options.MountFrom) on the same registry,
// every layer the repository lacks is first asked for as a
// cross-repository mount from it; the registry mounts those it has there
// and starts an ordinary upload for the others. The credentials are those
// of the Docker/podman config files.
func push(ctx context.Context, lay *store.Layout, digest v1.Hash, ref, mountFrom string, rt http.RoundTripper) (PushStats, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return PushStats{}, fmt.Errorf("push %s: %w", ref, err)
	}
	var from name.Repository
	if mountFrom != "" {
		if from, err = name.NewRepository(mountFrom); err != nil {
			return PushStats{}, fmt.Errorf("push %s: mount from %q: %w", ref, mountFrom, err)
		}
	}
	p, err := layout.FromPath(lay.Dir())
	if err != nil {
		return PushStats{}, err
	}
	img, err := p.Image(digest)
	if err != nil {
		return PushStats{}, err
	}
	img = checkedImage{img, lay}
	// Another registry cannot mount from it (and go-containerregistry would
	// ask the target for a repository of that name); the target repository
	// itself needs no mount.
	if mountFrom != "" && from.Registry.String() == r.Context().Registry.String() && from.String() != r.Context().String() {
		img = mountingImage{Image: img, from: from}
	}
	if rt == nil {
		rt = remote.DefaultTransport
	}
	ct := &countingTransport{next: rt}
	err = remote.Write(r, img, remote.WithContext(ctx), remote.WithTransport(ct), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return PushStats{}, fmt.Errorf("push %s: %w", ref, err)
	}
	return PushStats{Blobs: int(ct.blobs.Load()), Mounted: int(ct.mounted.Load())}, nil
}

// mountingImage is an image whose layers remote.Write tries to mount from
// the repository from: it does so for a remote.MountableLayer the target
// repository lacks (after its HEAD check), by a POST to
// /v2/REPO/blobs/uploads/?mount=DIGEST&from=FROM. Every layer is offered,
// not only the package layers: the POST is made for a missing blob anyway,
// and a registry that cannot mount one (the base and configure layers,
// group layers, a repository without the layer) answers 202 Accepted and
// the same request's upload session receives the blob, so offering costs
// no request. A registry that refuses the mount parameters outright gets
// the POST again without them (go-containerregistry retries). The config
// is not offered: it is not a layer of the mirror.
type mountingImage struct {
	v1.Image
	from name.Repository
}

func (m mountingImage) Layers() ([]v1.Layer, error) {
	ls, err := m.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, err
		}
		out[i] = &remote.MountableLayer{Layer: l, Reference: m.from.Digest(d.String())}
	}
	return out, nil
}

// countingTransport counts finished blob uploads, the PUT to an upload
// location that carries the blob's digest, and mounts, a POST to
// blobs/uploads/ with a mount parameter that the registry answered 201
// Created (202 Accepted is an upload session: the blob follows and is
// counted as an upload).
type countingTransport struct {
	next    http.RoundTripper
	blobs   atomic.Int64
	mounted atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/blobs/uploads/") {
		return resp, err
	}
	switch {
	case req.Method == http.MethodPut && resp.StatusCode < 300 && req.URL.Query().Get("digest") != "":
		c.blobs.Add(1)
	case req.Method == http.MethodPost && resp.StatusCode == http.StatusCreated && req.URL.Query().Get("mount") != "":
		c.mounted.Add(1)
	}
	return resp, err
}
