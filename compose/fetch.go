package compose

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// fetchLayers copies the package layers the store lacks from the registry
// repository src (a registry-backed mirror) into the store, each checked
// against its digest and size as it is written; nothing partial is left.
// It returns how many it fetched.
func fetchLayers(ctx context.Context, st *store.Store, src string, missing []index.Entry, rt http.RoundTripper) (int, error) {
	repo, err := name.NewRepository(src)
	if err != nil {
		return 0, fmt.Errorf("layers from %q: %w", src, err)
	}
	if rt == nil {
		rt = remote.DefaultTransport
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithTransport(rt), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	var g errgroup.Group
	g.SetLimit(4)
	for _, e := range missing {
		g.Go(func() error {
			if err := fetchLayer(st, repo, e.Layer, opts); err != nil {
				return fmt.Errorf("%s %s: layer %s from %s: %w", e.Package, e.Version, e.Layer.Digest, repo, err)
			}
			return nil
		})
	}
	return len(missing), g.Wait()
}

// fetchLayer copies one blob.
func fetchLayer(st *store.Store, repo name.Repository, l index.Layer, opts []remote.Option) error {
	rl, err := remote.Layer(repo.Digest(l.Digest.String()), opts...)
	if err != nil {
		return err
	}
	rc, err := rl.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	// Compressed checks the digest as the blob is read (go-containerregistry
	// fails the read at its end on a mismatch); the size is checked here.
	_, err = st.Layout().WriteBlob(func(w io.Writer) (v1.Descriptor, error) {
		n, err := io.Copy(w, io.LimitReader(rc, l.Size+1))
		if err != nil {
			return v1.Descriptor{}, err
		}
		if n != l.Size {
			return v1.Descriptor{}, fmt.Errorf("the registry sent %d bytes, want %d", n, l.Size)
		}
		return v1.Descriptor{MediaType: l.MediaType, Size: n, Digest: l.Digest}, nil
	})
	return err
}
