package compose

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/dpkg"
	"github.com/deb2fs/deb2fs/firstboot"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/store"
)

// DefaultPath is the image's PATH.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// composer is one Compose run.
type composer struct {
	opts    Options
	st      *store.Store
	arch    string
	pkgs    []index.Entry // canonical order
	groups  []layerGroup  // the package layers of the image
	timings Timings
	ctx     context.Context
	// checks are the store's blobs this run hashed.
	checks *store.Checks
}

func (c *composer) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(format, args...)
	}
}

// Compose builds the image of a package set (or of a request resolved
// over an index) and writes it to opts.Output. Nothing is tagged unless
// every step succeeded; blobs written before a failure are complete,
// content-addressed and unreferenced.
func Compose(ctx context.Context, opts Options) (*Image, error) {
	start := time.Now()
	if opts.Store == nil {
		return nil, errors.New("compose: no store")
	}
	c := &composer{opts: opts, st: opts.Store, ctx: ctx, checks: store.NewChecks(opts.Store.Layout())}
	pkgs := opts.Packages
	if len(pkgs) == 0 {
		if opts.Index == nil || len(opts.Request.Install) == 0 {
			return nil, errors.New("compose: nothing to compose (no packages, or no request and index)")
		}
		t := time.Now()
		var err error
		if pkgs, err = opts.Index.Resolve(opts.Request, ""); err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
		c.timings.Resolve = time.Since(t)
		c.logf("resolved %d packages in %s", len(pkgs), c.timings.Resolve.Round(time.Millisecond))
	}
	c.pkgs = canonicalOrder(pkgs)
	c.arch = index.NativeArch(c.pkgs)
	if c.arch == "" {
		return nil, errors.New("compose: every package is Architecture: all; the architecture is unknown")
	}
	var missing []index.Entry
	for _, e := range c.pkgs {
		if !c.st.Layout().HasBlob(e.Layer.Digest, e.Layer.Size) {
			missing = append(missing, e)
		}
	}
	if len(missing) > 0 {
		e := missing[0]
		if opts.LayersFrom == "" {
			return nil, fmt.Errorf("compose: %s %s: layer %s is not in the store %s (and no registry mirror to fetch it from)", e.Package, e.Version, e.Layer.Digest, c.st.Dir())
		}
		t := time.Now()
		n, err := fetchLayers(ctx, c.st, opts.LayersFrom, missing, opts.LayersTransport)
		if err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
		c.logf("fetched %d package layers from %s in %s", n, opts.LayersFrom, time.Since(t).Round(time.Millisecond))
	}
	if err := opts.Accounts.Check(); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if err := checkFiles(opts.Files); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	max := opts.MaxLayers
	if max == 0 {
		max = DefaultMaxLayers
	}
	own := 2 // base and configure layers
	if len(opts.Files) > 0 {
		own++
	}
	groups, err := planGroups(c.pkgs, max-own)
	if err != nil {
		return nil, fmt.Errorf("compose: --max-layers %d: %w", max, err)
	}
	c.groups = groups

	t := time.Now()
	var baseBuf bytes.Buffer
	base, baseDiffID, err := rootfs.WriteBaseLayer(&baseBuf, c.arch)
	if err != nil {
		return nil, err
	}
	if _, err := c.st.Layout().PutBytes(types.OCILayer, baseBuf.Bytes()); err != nil {
		return nil, err
	}
	c.checks.Mark(base.Digest)
	c.timings.Write += time.Since(t)

	b := configure.New(c.st, c.arch, c.pkgs, c.checks, configure.Options{
		SourceDateEpoch: opts.SourceDateEpoch, Accounts: opts.Accounts, Assemble: opts.Assemble, WorkDir: opts.WorkDir,
		ScriptTimeout: opts.ScriptTimeout, Pids: opts.Pids, Memory: opts.Memory,
		CheckInstanceState: opts.CheckInstanceState, AllowInstanceState: opts.AllowInstanceState, Logf: opts.Logf,
	})
	defer b.Wait()
	key := cacheKey(c.arch, base.Digest, c.pkgs, opts.SourceDateEpoch, opts.Accounts)
	rec, cached := lookupCache(c.st, key)
	if cached && !opts.NoCache && (!opts.CheckInstanceState || rec.InstanceState != nil) {
		if err := c.checks.Check(rec.Layer, "the cached configure layer"); err != nil {
			// Never reused: made again (the same inputs give the same bytes).
			c.logf("%v: making it again", err)
			if err := dropCache(c.st, rec); err != nil {
				return nil, err
			}
			cached = false
		}
	} else {
		cached = false
	}
	if cached {
		c.logf("configure layer %s from the cache", rec.Layer.Digest)
	} else {
		res, err := b.Build(ctx, base)
		c.timings.Timings = b.Timings()
		if err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
		c.checks.Mark(res.Layer.Digest) // hashed as it was written
		rec = &cacheRecord{Key: key, Result: *res}
		if err := putCache(c.st, rec, b.Output()); err != nil {
			return nil, err
		}
	}

	if opts.CheckInstanceState {
		if err := b.Verdict(rec.InstanceState); err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
	}

	t = time.Now()
	img, err := c.write(base, baseDiffID, rec)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	c.timings.Write += time.Since(t)
	b.Wait()
	c.timings.Total = time.Since(start)
	img.Cached = cached
	img.Assembled = b.Assembled()
	if opts.CheckInstanceState {
		img.InstanceState = rec.InstanceState
	}
	img.Timings = c.timings
	return img, nil
}

// write checks every layer blob against its digest, writes the config and
// manifest and tags the image in the output. A failure removes the blobs
// it added to an --output layout.
func (c *composer) write(base v1.Descriptor, baseDiffID v1.Hash, rec *cacheRecord) (_ *Image, err error) {
	out := c.opts.Output
	if out == nil {
		out = output.Store{}
	}
	lay, own, err := out.Layout(c.st)
	if err != nil {
		return nil, err
	}
	ob := &outputBlobs{to: lay, track: own}
	defer func() {
		if err != nil {
			ob.discard()
		}
	}()
	arch, variant := dpkg.OCIPlatform(c.arch)
	hooks := firstboot.Hooks(configure.PackageNames(c.pkgs))
	var hookNames []string
	for _, h := range hooks {
		hookNames = append(hookNames, h.Name)
	}
	cmd := c.opts.Cmd
	if len(cmd) == 0 {
		cmd = []string{"/bin/bash"}
	}

	layers := []v1.Descriptor{base}
	diffIDs := []v1.Hash{baseDiffID}
	whats := []string{"the base layer"}
	for _, g := range c.groups {
		desc, diffID, err := groupLayer(c.st, c.checks, g, c.logf)
		if err != nil {
			return nil, err
		}
		layers = append(layers, desc)
		diffIDs = append(diffIDs, diffID)
		whats = append(whats, g.what())
	}
	layers = append(layers, rec.Layer)
	diffIDs = append(diffIDs, rec.DiffID)
	whats = append(whats, "the configure layer")
	if len(c.opts.Files) > 0 {
		var diffID v1.Hash
		desc, err := c.st.Layout().WriteBlob(func(w io.Writer) (d v1.Descriptor, err error) {
			d, diffID, err = writeFilesLayer(w, c.opts.Files, time.Unix(rec.SourceDateEpoch, 0))
			return d, err
		})
		if err != nil {
			return nil, fmt.Errorf("files layer: %w", err)
		}
		c.logf("files layer %s: %d entries", desc.Digest, len(c.opts.Files))
		desc.Annotations = map[string]string{imagespec.AnnotationLayerKind: imagespec.LayerKindFiles}
		c.checks.Mark(desc.Digest) // written by this compose
		layers = append(layers, desc)
		diffIDs = append(diffIDs, diffID)
		whats = append(whats, "the files layer")
	}
	t := time.Now()
	if err := c.checks.CheckAll(layers, whats); err != nil {
		return nil, err
	}
	c.timings.Verify = time.Since(t)
	for _, l := range layers {
		if err := ob.copy(c.st.Layout(), l); err != nil {
			return nil, err
		}
	}

	labels := map[string]string{}
	for k, v := range c.opts.Config.Labels {
		labels[k] = v
	}
	for k, v := range map[string]string{
		imagespec.LabelPackages: packagesLabel(c.pkgs),
		imagespec.LabelHooks:    strings.Join(hookNames, ","),
		imagespec.LabelCompose:  fmt.Sprint(FormatVersion),
	} {
		labels[k] = v
	}
	if r := c.opts.recordedRequest(); r != "" {
		labels[imagespec.LabelRequest] = r
	}
	created := time.Unix(rec.SourceDateEpoch, 0).UTC()
	cfg := v1.ConfigFile{
		Architecture: arch, Variant: variant, OS: "linux",
		Created: v1.Time{Time: created},
		Config:  c.opts.Config.imageConfig(cmd, labels),
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: diffIDs},
	}
	cfgDesc, err := ob.json(types.OCIConfigJSON, cfg)
	if err != nil {
		return nil, err
	}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfgDesc, Layers: layers}
	if len(c.opts.Config.Annotations) > 0 {
		m.Annotations = c.opts.Config.Annotations
	}
	mDesc, err := ob.json(types.OCIManifestSchema1, m)
	if err != nil {
		return nil, err
	}
	mDesc.Platform = &v1.Platform{OS: "linux", Architecture: arch, Variant: variant}

	name := out.Name()
	if name == "" {
		name = DefaultTag(c.opts.Request.Install, rec.Key)
	}
	img := &Image{Manifest: mDesc, Config: cfgDesc.Digest, Layers: layers, Packages: c.pkgs, SourceDateEpoch: rec.SourceDateEpoch}
	if err := lay.Tag(mDesc, name); err != nil {
		return nil, err
	}
	sent, err := out.Send(c.ctx, lay, mDesc.Digest, name)
	if err != nil {
		return nil, err
	}
	img.Ref, img.Pushed = sent.Ref, sent.Pushed
	return img, nil
}

// packageAnnotations annotate a package's own layer in the manifest, as
// convert annotates it in the store: name, version, architecture, source
// (the index's Source field, "NAME" or "NAME (VERSION)"; the package's
// name when empty) and the .deb's SHA256.
func packageAnnotations(e index.Entry) map[string]string {
	a := map[string]string{
		imagespec.AnnotationPackage: e.Package, imagespec.AnnotationVersion: e.Version,
		imagespec.AnnotationArchitecture: e.Architecture, imagespec.AnnotationSource: sourceOf(e),
	}
	if e.DebSHA256 != "" {
		a[imagespec.AnnotationDebSHA256] = e.DebSHA256
	}
	return a
}

func sourceOf(e index.Entry) string {
	if e.Source == "" {
		return e.Package
	}
	return e.Source
}

// DefaultTag names an image after its request: compose-nginx-openssh-server;
// without a request, compose-KEY (the configure cache key's prefix).
func DefaultTag(request []string, key string) string {
	if len(request) == 0 {
		return "compose-" + key[:12]
	}
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, strings.Join(request, "-"))
	t := "compose-" + clean
	if len(t) > 128 {
		t = t[:115] + "-" + key[:12]
	}
	return t
}

// packagesLabel lists the packages as NAME=VERSION, comma separated, in
// layer order.
func packagesLabel(es []index.Entry) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Package + "=" + e.Version
	}
	return strings.Join(parts, ",")
}
