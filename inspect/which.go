package inspect

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/imageref"
	"github.com/deb2fs/deb2fs/imagespec"
)

// Hit is an image that holds packages a query matched.
type Hit struct {
	Image    *Image    `json:"image"`
	Packages []Package `json:"packages"`
}

// Which returns the images holding a package q matches, with the
// matching packages, in the order of images.
func Which(images []*Image, q Query) []Hit {
	var hits []Hit
	for _, im := range images {
		var ps []Package
		for i := range im.Packages {
			if q.Match(&im.Packages[i]) {
				ps = append(ps, im.Packages[i])
			}
		}
		if len(ps) > 0 {
			hits = append(hits, Hit{Image: im, Packages: ps})
		}
	}
	return hits
}

// skipManifest reports whether a manifest is not an image of packages
// worth listing: an artifact (the mirror index) or a package's own
// one-layer image in a layer store.
func skipManifest(m *v1.Manifest) bool {
	return isArtifact(string(m.ArtifactType)) || !m.Config.MediaType.IsConfig() || m.Annotations[imagespec.AnnotationPackage] != ""
}

// isArtifact reports whether an artifactType names something other than
// an image (some writers set it to the image config's media type).
func isArtifact(t string) bool {
	return t != "" && !types.MediaType(t).IsConfig()
}

// LayoutImages reads every tagged image of the OCI layout dir (a store
// or any layout) except the package images and mirror indexes of a
// store, sorted by tag. It reads index.json, each manifest and the
// configs of the images it keeps; errors of single images are returned
// beside the images that could be read.
func (o *Opener) LayoutImages(dir string) ([]*Image, []error) {
	data, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, []error{err}
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, []error{fmt.Errorf("%s/index.json: %w", dir, err)}
	}
	var out []*Image
	var errs []error
	for _, d := range idx.Manifests {
		tag := d.Annotations[imagespec.AnnotationRefName]
		if d.Annotations[imagespec.AnnotationPackage] != "" || isArtifact(d.ArtifactType) || !d.MediaType.IsImage() {
			continue
		}
		if tag == "" {
			tag = d.Digest.String()
		}
		ref := imageref.Ref{Transport: imageref.OCI, Path: dir, Tag: tag}.String()
		raw, err := os.ReadFile(filepath.Join(dir, "blobs", d.Digest.Algorithm, d.Digest.Hex))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ref, err))
			continue
		}
		m, err := v1.ParseManifest(bytes.NewReader(raw))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ref, err))
			continue
		}
		if skipManifest(m) {
			continue
		}
		im, err := o.readLayoutManifest(ref, dir, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, im)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, errs
}

// RepoImages reads every tag of a registry repository (HOST/REPO) except
// package images and mirror indexes: one tag list, one manifest request
// per tag and one config request per image kept, several at a time.
func (o *Opener) RepoImages(ctx context.Context, repo string) ([]*Image, []error) {
	repo = strings.TrimPrefix(repo, "docker://")
	r, err := name.NewRepository(repo)
	if err != nil {
		return nil, []error{err}
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
	tags, err := remote.List(r, opts...)
	if err != nil {
		return nil, []error{fmt.Errorf("%s: %w", repo, err)}
	}
	sort.Strings(tags)
	images := make([]*Image, len(tags))
	errs := make([]error, len(tags))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, tag := range tags {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ref := r.Tag(tag)
			desc, err := remote.Get(ref, opts...)
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", ref, err)
				return
			}
			if desc.MediaType.IsImage() {
				m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", ref, err)
					return
				}
				if skipManifest(m) {
					return
				}
			}
			images[i], errs[i] = o.readRemote(ref.String(), desc)
		}()
	}
	wg.Wait()
	var out []*Image
	var bad []error
	for i := range tags {
		if images[i] != nil {
			out = append(out, images[i])
		}
		if errs[i] != nil {
			bad = append(bad, errs[i])
		}
	}
	return out, bad
}
