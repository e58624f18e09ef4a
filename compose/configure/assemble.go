package configure

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// Assembly says how the scratch root is materialised from the layers.
type Assembly string

const (
	// AssembleAuto mounts overlayfs over the cached unpacked layers when
	// it can, and extracts the layers otherwise.
	AssembleAuto Assembly = ""
	// AssembleOverlay requires the overlay path: compose fails if the
	// kernel refuses the mount or the layers need the extractor.
	AssembleOverlay Assembly = "overlay"
	// AssembleExtract extracts every layer into the scratch root.
	AssembleExtract Assembly = "extract"
)

// assembled is what assembling found: the newest regular file's mtime in
// the layers, and the paths several packages ship, with their owners.
type assembled struct {
	newest    time.Time
	takeovers []rootfs.Takeover
}

// assemble materialises the union of the base and package layers and
// starts the sandbox over it; sc.root is then the root as compose reaches
// it. Both paths give the same tree: extraction applies the layers in
// order, overlayfs stacks them as they are (checkOverlay refuses what
// would differ).
func (c *Builder) assemble(sc *scratch, base v1.Descriptor, run configureRun) (*assembled, error) {
	if c.ids.Count == 0 {
		ids, err := sandbox.DefaultIDs()
		if err != nil {
			return nil, err
		}
		c.ids = ids
	}
	label := run.label
	if c.opts.Assemble == AssembleAuto {
		// Unpacking a layer into the cache costs more than extracting it
		// (a tree of its own on the store's disk): when many are missing,
		// extract this time and fill the cache meanwhile, while the
		// maintainer scripts run.
		all := c.layerDescs(base)
		var missing []v1.Descriptor
		for _, d := range all {
			if !rootfs.IsUnpacked(c.st, c.ids, d.Digest) {
				missing = append(missing, d)
			}
		}
		if len(missing)*3 > len(all) {
			c.logf("%s%d of %d layers are not in the unpacked cache: extracting them, and unpacking them into the cache while the scripts run", label, len(missing), len(all))
			a, err := c.assembleExtract(sc, base)
			if err == nil {
				err = c.enter(sc, run)
			}
			if err == nil {
				c.fillCache(missing)
			}
			return a, err
		}
	}
	if c.opts.Assemble != AssembleExtract {
		a, err := c.assembleOverlay(sc, base)
		if err == nil {
			if err = c.enter(sc, run); err == nil {
				return a, nil
			}
		}
		var overlap *rootfs.OverlapError
		if c.opts.Assemble == AssembleOverlay || errors.As(err, &overlap) || errors.Is(err, store.ErrBlobDigest) {
			return nil, err
		}
		c.logf("%soverlay: %v; extracting the layers instead", label, err)
		sc.overlay, sc.lowers = false, nil
		for _, d := range []string{"upper", "work"} {
			if err := os.RemoveAll(filepath.Join(sc.dir, d)); err != nil {
				return nil, err
			}
		}
	}
	a, err := c.assembleExtract(sc, base)
	if err != nil {
		return nil, err
	}
	return a, c.enter(sc, run)
}

// enter starts the sandbox over the assembled tree.
func (c *Builder) enter(sc *scratch, run configureRun) error {
	host := run.hostname
	if host == "" {
		host = Hostname
	}
	cfg := sandbox.Config{IDs: c.ids, Hostname: host, BootID: run.bootID,
		Timeout: c.opts.ScriptTimeout, Pids: c.opts.Pids, Memory: c.opts.Memory}
	if sc.overlay {
		cfg.Lower, cfg.Upper, cfg.Work = sc.lowers, filepath.Join(sc.dir, "upper"), filepath.Join(sc.dir, "work")
	} else {
		cfg.Root = filepath.Join(sc.dir, "tree")
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	box, err := sandbox.Start(ctx, cfg)
	if err != nil {
		return err
	}
	sc.box, sc.root = box, box.Root()
	return nil
}

// assembleExtract extracts the layers, in order, into the work area's
// tree.
func (c *Builder) assembleExtract(sc *scratch, base v1.Descriptor) (*assembled, error) {
	root := filepath.Join(sc.dir, "tree")
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	if err := os.Lchown(root, c.ids.Shift(0), c.ids.Shift(0)); err != nil {
		return nil, err
	}
	x := rootfs.NewExtractor(root, c.ids)
	x.Layer, x.Own = "the base layer", rootfs.NewOwnership(c.replaces)
	if err := x.Apply(c.st.Layout().BlobPath(base.Digest), base.MediaType, base.Digest); err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	for i := range c.pkgs {
		e := &c.pkgs[i]
		x.Layer = e.Package
		if err := x.Apply(c.st.Layout().BlobPath(e.Layer.Digest), e.Layer.MediaType, e.Layer.Digest); err != nil {
			return nil, fmt.Errorf("%s %s: %w", e.Package, e.Version, err)
		}
		c.checks.Mark(e.Layer.Digest) // apply hashed it to its end
	}
	if err := x.Finish(); err != nil {
		return nil, err
	}
	return &assembled{newest: x.Newest, takeovers: x.Own.Takeovers()}, nil
}

// assembleOverlay unpacks the layers the cache lacks (in parallel), checks
// that stacking them means what extracting them would, and readies the
// lower (top first), upper and work directories of the overlayfs the
// sandbox mounts.
func (c *Builder) assembleOverlay(sc *scratch, base v1.Descriptor) (*assembled, error) {
	layers := make([]rootfs.OverlayLayer, len(c.pkgs)+1)
	layers[0].Name = "the base layer"
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	g.Go(func() (err error) {
		layers[0].Unpacked, err = rootfs.Unpack(c.st, c.ids, base, c.logf)
		if err != nil {
			return fmt.Errorf("base layer: %w", err)
		}
		return nil
	})
	for i := range c.pkgs {
		e := &c.pkgs[i]
		layers[i+1].Name = e.Package
		g.Go(func() (err error) {
			layers[i+1].Unpacked, err = rootfs.Unpack(c.st, c.ids, v1.Descriptor{Digest: e.Layer.Digest, MediaType: e.Layer.MediaType, Size: e.Layer.Size}, c.logf)
			if err != nil {
				return fmt.Errorf("%s %s: %w", e.Package, e.Version, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	own := rootfs.NewOwnership(c.replaces)
	newest, err := rootfs.CheckOverlay(layers, own)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"upper", "work"} {
		p := filepath.Join(sc.dir, d)
		if err := os.Mkdir(p, 0o755); err != nil {
			return nil, err
		}
		if err := os.Lchown(p, c.ids.Shift(0), c.ids.Shift(0)); err != nil {
			return nil, err
		}
	}
	sc.lowers = nil
	for i := len(layers) - 1; i >= 0; i-- {
		sc.lowers = append(sc.lowers, layers[i].Unpacked.Tree)
	}
	sc.overlay = true
	a := &assembled{takeovers: own.Takeovers()}
	if newest != 0 {
		a.newest = time.Unix(0, newest)
	}
	return a, nil
}

// layerDescs are the base layer and the package layers, in order.
func (c *Builder) layerDescs(base v1.Descriptor) []v1.Descriptor {
	out := []v1.Descriptor{base}
	for _, e := range c.pkgs {
		out = append(out, v1.Descriptor{Digest: e.Layer.Digest, MediaType: e.Layer.MediaType, Size: e.Layer.Size})
	}
	return out
}

// fillCache unpacks layers into the cache in the background, once per
// compose, on all but one CPU; waitFill waits for it.
func (c *Builder) fillCache(ds []v1.Descriptor) {
	c.fillOnce.Do(func() {
		c.fillStart, c.fillN = time.Now(), len(ds)
		done := make(chan error, 1)
		c.fill = done
		go func() {
			var g errgroup.Group // Go blocks at the limit: not on the caller's goroutine
			g.SetLimit(max(1, runtime.NumCPU()-1))
			for _, d := range ds {
				g.Go(func() error {
					_, err := rootfs.Unpack(c.st, c.ids, d, c.logf)
					if err != nil && !errors.Is(err, rootfs.ErrNotOverlayable) {
						return fmt.Errorf("layer %s: %w", d.Digest, err)
					}
					return nil
				})
			}
			done <- g.Wait()
		}()
	})
}

// Wait waits for the background cache fill, if one runs, and logs how
// it went: a failure only means the next compose unpacks again.
func (c *Builder) Wait() {
	if c.fill == nil {
		return
	}
	if err := <-c.fill; err != nil {
		c.logf("unpacked-layer cache: %v (the next compose unpacks again)", err)
	} else {
		c.logf("unpacked %d layers into the cache in the background (%s)", c.fillN, time.Since(c.fillStart).Round(time.Millisecond))
	}
	c.fill = nil
}
