package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// Remote is a registry repository a run publishes to. Layers are converted
// into the work store (Options.Store), then each package's one-layer image
// is pushed under a tag naming the package (PACKAGE_VERSION_ARCH, as in the
// layout), and the index artifact under LatestRef and a dated tag. Every
// layer is thus referenced by a tagged manifest, so a registry's garbage
// collector keeps it. A later run, on any machine, finds what the registry
// has from its latest index and, for packages not in it (pushed by shards),
// by their tags: it converts nothing the registry already holds.
type Remote struct {
	Repo name.Repository
	// Options are passed to every registry call; NewRemote sets the
	// docker/podman credential keychain.
	Options []remote.Option
}

// NewRemote parses REGISTRY/REPO. Plain HTTP is used for 127.0.0.1,
// localhost and private addresses, as go-containerregistry does.
func NewRemote(repo string, opts ...remote.Option) (*Remote, error) {
	r, err := name.NewRepository(repo)
	if err != nil {
		return nil, fmt.Errorf("registry repository %q: %w", repo, err)
	}
	return &Remote{Repo: r, Options: append([]remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)}, nil
}

// Tag is the registry tag of a package's image: the layout's ref name,
// shortened with a hash when it would pass the 128 characters a tag allows.
func Tag(pkg, version, arch string) string {
	t := store.RefName(&convert.Layer{Package: pkg, Version: version, Architecture: arch})
	if len(t) > 128 {
		sum := sha256.Sum256([]byte(t))
		t = t[:111] + "-" + hex.EncodeToString(sum[:8])
	}
	return t
}

func isNotFound(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && te.StatusCode == http.StatusNotFound
}

func (rm *Remote) target(st *store.Store, jobs int, pushed func()) *remoteTarget {
	if jobs <= 0 {
		jobs = 4
	}
	return &remoteTarget{rm: rm, st: st, jobs: jobs, pushed: pushed}
}

// remoteTarget publishes to a registry repository.
type remoteTarget struct {
	rm     *Remote
	st     *store.Store
	jobs   int
	pushed func() // counts one pushed image

	prev *index.Index // the latest index, once read
	// last is the registry's latest index artifact: the one latest read,
	// then the one publish put; copyLocal lists it in the work store.
	last *index.Raw
}

func (t *remoteTarget) String() string { return t.rm.Repo.String() }

func (t *remoteTarget) opts(ctx context.Context) []remote.Option {
	return append(append([]remote.Option(nil), t.rm.Options...), remote.WithContext(ctx), remote.WithJobs(t.jobs))
}

func (t *remoteTarget) latest(ctx context.Context) (*index.Index, string, error) {
	ix, raw, err := index.FetchRemote(ctx, t.rm.Repo.Tag(index.LatestRef), t.opts(ctx)...)
	if isNotFound(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	t.prev, t.last = ix, raw
	return ix, raw.Digest.String(), nil
}

// complete trusts the registry: what its index references was pushed
// before the index, and its garbage collector keeps tagged manifests.
func (t *remoteTarget) complete(*index.Index) bool { return true }

func (t *remoteTarget) published(ctx context.Context, pkgs []*archive.Package, key func(*archive.Package) convert.Key) ([]*store.Record, error) {
	recs := make([]*store.Record, len(pkgs))
	known := map[string]*index.Entry{}
	if t.prev != nil {
		for i := range t.prev.Packages {
			e := &t.prev.Packages[i]
			known[e.DebSHA256+" "+string(e.Layer.MediaType)+" "+strconv.Itoa(e.Layer.Format)] = e
		}
	}
	// The tags in one listing, so that only packages whose tag exists cost
	// a manifest request (a first --all run into an empty repository
	// costs one request, not 63k).
	tags, err := t.tags(ctx)
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.jobs * 2)
	for i, p := range pkgs {
		k := key(p)
		if e := known[p.SHA256+" "+string(k.Compression.MediaType())+" "+strconv.Itoa(convert.FormatVersion)]; e != nil {
			recs[i] = &store.Record{
				Layer: convert.Layer{Package: p.Name, Version: p.Version, Architecture: p.Architecture, DebSHA256: p.SHA256,
					Format: e.Layer.Format, Digest: e.Layer.Digest, DiffID: e.Layer.DiffID, Size: e.Layer.Size, MediaType: e.Layer.MediaType},
				Manifest: v1.Descriptor{Digest: e.Layer.Manifest},
			}
			continue
		}
		if !tags[Tag(p.Name, p.Version, p.Architecture)] {
			continue
		}
		g.Go(func() error {
			rec, err := t.lookupTag(gctx, p, k)
			recs[i] = rec
			return err
		})
	}
	return recs, g.Wait()
}

// tags lists the repository's tags; a repository that does not exist yet
// has none.
func (t *remoteTarget) tags(ctx context.Context) (map[string]bool, error) {
	list, err := remote.List(t.rm.Repo, t.opts(ctx)...)
	if isNotFound(err) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", t, err)
	}
	m := make(map[string]bool, len(list))
	for _, tg := range list {
		m[tg] = true
	}
	return m, nil
}

// lookupTag finds a package image pushed by an earlier run or a shard by
// its tag, and accepts it if it was made from the same .deb in the same
// layer format and compression.
func (t *remoteTarget) lookupTag(ctx context.Context, p *archive.Package, k convert.Key) (*store.Record, error) {
	ref := t.rm.Repo.Tag(Tag(p.Name, p.Version, p.Architecture))
	img, err := remote.Image(ref, t.opts(ctx)...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry lookup %s: %w", ref, err)
	}
	m, err := img.Manifest()
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry lookup %s: %w", ref, err)
	}
	if len(m.Layers) != 1 || m.Annotations[imagespec.AnnotationDebSHA256] != p.SHA256 ||
		m.Annotations[imagespec.AnnotationFormat] != strconv.Itoa(convert.FormatVersion) || m.Layers[0].MediaType != k.Compression.MediaType() {
		return nil, nil // another build under that tag: convert and push ours
	}
	cfg, err := img.ConfigFile()
	if err != nil || len(cfg.RootFS.DiffIDs) != 1 {
		return nil, fmt.Errorf("registry lookup %s: config: %v", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("registry lookup %s: %w", ref, err)
	}
	l := m.Layers[0]
	return &store.Record{
		Layer: convert.Layer{Package: p.Name, Version: p.Version, Architecture: p.Architecture, DebSHA256: p.SHA256,
			Format: convert.FormatVersion, Digest: l.Digest, DiffID: cfg.RootFS.DiffIDs[0], Size: l.Size, MediaType: l.MediaType},
		Manifest: v1.Descriptor{Digest: digest, MediaType: types.OCIManifestSchema1},
	}, nil
}

// push pushes each record's package image from the work store; blobs the
// registry has are not uploaded again.
func (t *remoteTarget) push(ctx context.Context, recs []*store.Record) error {
	pusher, err := remote.NewPusher(t.opts(ctx)...)
	if err != nil {
		return fmt.Errorf("push to %s: %w", t, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.jobs)
	for _, rec := range recs {
		g.Go(func() error {
			img, err := newStoreImage(t.st, rec.Manifest)
			if err != nil {
				return fmt.Errorf("push %s %s: %w", rec.Package, rec.Version, err)
			}
			ref := t.rm.Repo.Tag(Tag(rec.Package, rec.Version, rec.Architecture))
			if err := pusher.Push(gctx, ref, img); err != nil {
				return fmt.Errorf("push %s: %w", ref, err)
			}
			t.pushed()
			return nil
		})
	}
	return g.Wait()
}

// rawManifest is a manifest to put as is.
type rawManifest struct {
	data []byte
	mt   types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.data, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// publish uploads the index blob and the empty config, then puts the index
// manifest under its dated tag and, last, under LatestRef: a tag moves
// atomically, so readers see the old index or the new one. The runner then
// lists the same artifact in the work store (copyLocal).
func (t *remoteTarget) publish(ctx context.Context, ix *index.Index, _ []convert.Key) (v1.Descriptor, int64, error) {
	opts := t.opts(ctx)
	// A dated tag never moves: two publications within one second get
	// consecutive seconds. The work store gets the same dated ref, so it
	// must be free there too.
	for {
		_, err := remote.Head(t.rm.Repo.Tag(index.DatedRef(ix.Created)), opts...)
		if err != nil && !isNotFound(err) {
			return v1.Descriptor{}, 0, fmt.Errorf("publish index to %s: %w", t, err)
		}
		if isNotFound(err) {
			if _, err := t.st.Resolve(index.DatedRef(ix.Created)); err != nil {
				break
			}
		}
		ix.Created = ix.Created.Add(time.Second)
	}
	blob, err := index.Encode(ix)
	if err != nil {
		return v1.Descriptor{}, 0, err
	}
	var descs [2]v1.Descriptor
	for i, b := range []struct {
		data []byte
		mt   types.MediaType
	}{{blob, index.MediaType}, {[]byte("{}"), emptyMediaType}} {
		l := static.NewLayer(b.data, b.mt)
		if err := remote.WriteLayer(t.rm.Repo, l, opts...); err != nil {
			return v1.Descriptor{}, 0, fmt.Errorf("publish index to %s: %w", t, err)
		}
		dg, _ := l.Digest()
		descs[i] = v1.Descriptor{MediaType: b.mt, Digest: dg, Size: int64(len(b.data))}
	}
	data, err := json.Marshal(indexManifest(descs[1], descs[0], ix))
	if err != nil {
		return v1.Descriptor{}, 0, err
	}
	md := v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: int64(len(data)), ArtifactType: index.ArtifactType}
	h, _, err := v1.SHA256(strings.NewReader(string(data)))
	if err != nil {
		return v1.Descriptor{}, 0, err
	}
	md.Digest = h
	for _, tag := range []string{index.DatedRef(ix.Created), index.LatestRef} {
		if err := remote.Put(t.rm.Repo.Tag(tag), rawManifest{data, types.OCIManifestSchema1}, opts...); err != nil {
			return v1.Descriptor{}, 0, fmt.Errorf("publish index to %s:%s: %w", t, tag, err)
		}
	}
	t.last = &index.Raw{Manifest: data, Digest: h, Blob: blob, Created: ix.Created}
	return md, int64(len(blob) + len(data)), nil
}

// copyLocal lists the registry's latest index artifact (t.last: the one
// this run published, or the one it found up to date) in the work store,
// byte for byte, under LatestRef and its dated ref, so that compose --store
// WORKDIR reads it. Each of the two index.json entries carries
// imagespec.AnnotationMirrorRepository, the registry repository
// (RemoteOf). As in the layout's publish, the blobs are written first and
// index.json is renamed last, under the store's lock: until then the work
// store's previous index stays. A dated ref that names another index in the work store is not
// moved (only LatestRef is set then). Layers are not copied: the work
// store has those this machine converted.
func (t *remoteTarget) copyLocal() error {
	raw := t.last
	if raw == nil {
		return nil
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw.Manifest))
	if err != nil {
		return fmt.Errorf("index manifest %s: %w", raw.Digest, err)
	}
	if len(m.Layers) != 1 {
		return fmt.Errorf("index manifest %s: %d layers", raw.Digest, len(m.Layers))
	}
	l, err := t.st.PutBlob(index.MediaType, raw.Blob)
	if err != nil {
		return err
	}
	if l.Digest != m.Layers[0].Digest {
		return fmt.Errorf("index manifest %s names blob %s, have %s", raw.Digest, m.Layers[0].Digest, l.Digest)
	}
	if _, err := t.st.PutBlob(emptyMediaType, []byte("{}")); err != nil {
		return err
	}
	md, err := t.st.PutBlob(types.OCIManifestSchema1, raw.Manifest)
	if err != nil {
		return err
	}
	if md.Digest != raw.Digest {
		return fmt.Errorf("index manifest %s hashes to %s", raw.Digest, md.Digest)
	}
	md.ArtifactType = index.ArtifactType
	crash(crashPublishBlob)
	refs := []string{index.LatestRef}
	dated := index.DatedRef(raw.Created)
	if d, err := t.st.Resolve(dated); errors.Is(err, store.ErrNoRef) || (err == nil && d.Digest == md.Digest) {
		refs = append(refs, dated)
	}
	var tagged []v1.Descriptor
	for _, ref := range refs {
		d := md
		d.Annotations = map[string]string{
			imagespec.AnnotationRefName:          ref,
			imagespec.AnnotationCreated:          m.Annotations[imagespec.AnnotationCreated],
			imagespec.AnnotationMirrorRepository: t.rm.Repo.String(),
		}
		tagged = append(tagged, d)
	}
	return t.st.PublishTagged(nil, tagged)
}

// storeImage is a package image of the work store, read from its blobs by
// the manifest digest (the work store's index.json need not list it).
type storeImage struct {
	st       *store.Store
	manifest []byte
	m        *v1.Manifest
}

func newStoreImage(st *store.Store, d v1.Descriptor) (v1.Image, error) {
	if d.Size == 0 {
		fi, err := os.Stat(st.BlobPath(d.Digest))
		if err != nil {
			return nil, err
		}
		d.Size = fi.Size()
	}
	data, err := st.ReadBlob(d)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(strings.NewReader(string(data)))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	return partial.CompressedToImage(&storeImage{st: st, manifest: data, m: m})
}

func (i *storeImage) RawManifest() ([]byte, error)        { return i.manifest, nil }
func (i *storeImage) MediaType() (types.MediaType, error) { return i.m.MediaType, nil }
func (i *storeImage) RawConfigFile() ([]byte, error)      { return i.st.ReadBlob(i.m.Config) }

func (i *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range append([]v1.Descriptor{i.m.Config}, i.m.Layers...) {
		if l.Digest == h {
			return blobLayer{st: i.st, d: l}, nil
		}
	}
	return nil, fmt.Errorf("blob %s is not in manifest", h)
}

// blobLayer is a blob of the work store, opened when it is uploaded.
type blobLayer struct {
	st *store.Store
	d  v1.Descriptor
}

func (b blobLayer) Digest() (v1.Hash, error)            { return b.d.Digest, nil }
func (b blobLayer) Size() (int64, error)                { return b.d.Size, nil }
func (b blobLayer) MediaType() (types.MediaType, error) { return b.d.MediaType, nil }
func (b blobLayer) Compressed() (io.ReadCloser, error)  { return os.Open(b.st.BlobPath(b.d.Digest)) }
