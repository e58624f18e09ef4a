package compose

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushStats count what a push sent.
type PushStats struct {
	// Blobs is the number of blobs uploaded (layers and config); the
	// registry had the others.
	Blobs int
}

// push copies the image whose manifest is digest in the layout dir to the
// registry reference ref (REGISTRY/REPO:TAG; plain HTTP for 127.0.0.1 and
// localhost). Blobs the repository already holds are not uploaded. The
// credentials are those of the Docker/podman config files.
func push(ctx context.Context, dir string, digest v1.Hash, ref string, rt http.RoundTripper) (PushStats, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return PushStats{}, fmt.Errorf("push %s: %w", ref, err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return PushStats{}, err
	}
	img, err := p.Image(digest)
	if err != nil {
		return PushStats{}, err
	}
	if rt == nil {
		rt = remote.DefaultTransport
	}
	ct := &countingTransport{next: rt}
	err = remote.Write(r, img, remote.WithContext(ctx), remote.WithTransport(ct), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return PushStats{}, fmt.Errorf("push %s: %w", ref, err)
	}
	return PushStats{Blobs: int(ct.blobs.Load())}, nil
}

// countingTransport counts finished blob uploads: the PUT to an upload
// location that carries the blob's digest.
type countingTransport struct {
	next  http.RoundTripper
	blobs atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err == nil && resp.StatusCode < 300 && req.Method == http.MethodPut &&
		strings.Contains(req.URL.Path, "/blobs/uploads/") && req.URL.Query().Get("digest") != "" {
		c.blobs.Add(1)
	}
	return resp, err
}
