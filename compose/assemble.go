package compose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sync/errgroup"
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
	takeovers []takeover
}

// assemble materialises the union of the base and package layers at
// sc.root. Both paths give the same tree: extraction applies the layers in
// order, overlayfs stacks them as they are (checkOverlay refuses what
// would differ).
func (c *composer) assemble(sc *scratch, base v1.Descriptor, label string) (*assembled, error) {
	if c.opts.Assemble == AssembleAuto {
		// Unpacking a layer into the cache costs more than extracting it
		// (a tree of its own on the store's disk): when many are missing,
		// extract this time and fill the cache meanwhile, while the
		// maintainer scripts run.
		all := c.layerDescs(base)
		var missing []v1.Descriptor
		for _, d := range all {
			if !isUnpacked(c.storeDir, d.Digest) {
				missing = append(missing, d)
			}
		}
		if len(missing)*3 > len(all) {
			c.logf("%s%d of %d layers are not in the unpacked cache: extracting them, and unpacking them into the cache while the scripts run", label, len(missing), len(all))
			a, err := c.assembleExtract(sc.root, base)
			if err == nil {
				c.fillCache(missing)
			}
			return a, err
		}
	}
	if c.opts.Assemble != AssembleExtract {
		a, err := c.assembleOverlay(sc, base)
		if err == nil {
			return a, nil
		}
		var overlap *OverlapError
		if c.opts.Assemble == AssembleOverlay || errors.As(err, &overlap) {
			return nil, err
		}
		c.logf("%soverlay: %v; extracting the layers instead", label, err)
		if sc.overlay {
			if err := unmount(sc.root); err != nil {
				return nil, err
			}
			sc.overlay = false
		}
		for _, d := range []string{"root", "upper", "work"} {
			if err := os.RemoveAll(filepath.Join(sc.dir, d)); err != nil {
				return nil, err
			}
		}
	}
	return c.assembleExtract(sc.root, base)
}

// assembleExtract extracts the layers, in order, into root.
func (c *composer) assembleExtract(root string, base v1.Descriptor) (*assembled, error) {
	if err := os.Mkdir(root, 0o755); err != nil {
		return nil, err
	}
	x := newExtractor(root)
	x.layer, x.own = "the base layer", newOwnership(c.replaces)
	if err := x.apply(blobPath(c.storeDir, base.Digest), base.MediaType, base.Digest); err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	for i := range c.pkgs {
		e := &c.pkgs[i]
		x.layer = e.Package
		if err := x.apply(blobPath(c.storeDir, e.Layer.Digest), e.Layer.MediaType, e.Layer.Digest); err != nil {
			return nil, fmt.Errorf("%s %s: %w", e.Package, e.Version, err)
		}
	}
	if err := x.finish(); err != nil {
		return nil, err
	}
	return &assembled{newest: x.newest, takeovers: x.own.takeovers()}, nil
}

// assembleOverlay unpacks the layers the cache lacks (in parallel), checks
// that stacking them means what extracting them would, and mounts
// overlayfs on sc.root.
func (c *composer) assembleOverlay(sc *scratch, base v1.Descriptor) (*assembled, error) {
	layers := make([]overlayLayer, len(c.pkgs)+1)
	layers[0].name = "the base layer"
	var g errgroup.Group
	g.SetLimit(runtime.NumCPU())
	g.Go(func() (err error) {
		layers[0].u, err = unpack(c.storeDir, base)
		if err != nil {
			return fmt.Errorf("base layer: %w", err)
		}
		return nil
	})
	for i := range c.pkgs {
		e := &c.pkgs[i]
		layers[i+1].name = e.Package
		g.Go(func() (err error) {
			layers[i+1].u, err = unpack(c.storeDir, v1.Descriptor{Digest: e.Layer.Digest, MediaType: e.Layer.MediaType, Size: e.Layer.Size})
			if err != nil {
				return fmt.Errorf("%s %s: %w", e.Package, e.Version, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	own := newOwnership(c.replaces)
	newest, err := checkOverlay(layers, own)
	if err != nil {
		return nil, err
	}
	upper, work := filepath.Join(sc.dir, "upper"), filepath.Join(sc.dir, "work")
	for _, d := range []string{sc.root, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	if err := mountOverlay(sc.root, upper, work, layers); err != nil {
		return nil, err
	}
	sc.overlay = true
	a := &assembled{takeovers: own.takeovers()}
	if newest != 0 {
		a.newest = time.Unix(0, newest)
	}
	return a, nil
}

// layerDescs are the base layer and the package layers, in order.
func (c *composer) layerDescs(base v1.Descriptor) []v1.Descriptor {
	out := []v1.Descriptor{base}
	for _, e := range c.pkgs {
		out = append(out, v1.Descriptor{Digest: e.Layer.Digest, MediaType: e.Layer.MediaType, Size: e.Layer.Size})
	}
	return out
}

// fillCache unpacks layers into the cache in the background, once per
// compose, on all but one CPU; waitFill waits for it.
func (c *composer) fillCache(ds []v1.Descriptor) {
	c.fillOnce.Do(func() {
		c.fillStart, c.fillN = time.Now(), len(ds)
		done := make(chan error, 1)
		c.fill = done
		go func() {
			var g errgroup.Group // Go blocks at the limit: not on the caller's goroutine
			g.SetLimit(max(1, runtime.NumCPU()-1))
			for _, d := range ds {
				g.Go(func() error {
					_, err := unpack(c.storeDir, d)
					if err != nil && !errors.Is(err, errNotOverlayable) {
						return fmt.Errorf("layer %s: %w", d.Digest, err)
					}
					return nil
				})
			}
			done <- g.Wait()
		}()
	})
}

// waitFill waits for the background cache fill, if one runs, and logs how
// it went: a failure only means the next compose unpacks again.
func (c *composer) waitFill() {
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
