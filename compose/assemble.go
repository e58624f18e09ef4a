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

// assemble materialises the union of the base and package layers at
// sc.root and returns the newest regular file's mtime in them. Both paths
// give the same tree: extraction applies the layers in order, overlayfs
// stacks them as they are (checkOverlay refuses what would differ).
func (c *composer) assemble(sc *scratch, base v1.Descriptor, label string) (time.Time, error) {
	if c.opts.Assemble != AssembleExtract {
		newest, err := c.assembleOverlay(sc, base)
		if err == nil {
			return newest, nil
		}
		var overlap *OverlapError
		if c.opts.Assemble == AssembleOverlay || errors.As(err, &overlap) {
			return time.Time{}, err
		}
		c.logf("%soverlay: %v; extracting the layers instead", label, err)
		if sc.overlay {
			if err := unmount(sc.root); err != nil {
				return time.Time{}, err
			}
			sc.overlay = false
		}
		for _, d := range []string{"root", "upper", "work"} {
			if err := os.RemoveAll(filepath.Join(sc.dir, d)); err != nil {
				return time.Time{}, err
			}
		}
	}
	return c.assembleExtract(sc.root, base)
}

// assembleExtract extracts the layers, in order, into root.
func (c *composer) assembleExtract(root string, base v1.Descriptor) (time.Time, error) {
	if err := os.Mkdir(root, 0o755); err != nil {
		return time.Time{}, err
	}
	x := newExtractor(root)
	x.layer, x.mayReplace = "the base layer", c.mayReplace
	if err := x.apply(blobPath(c.storeDir, base.Digest), base.MediaType, base.Digest); err != nil {
		return time.Time{}, fmt.Errorf("base layer: %w", err)
	}
	for i := range c.pkgs {
		e := &c.pkgs[i]
		x.layer = e.Package
		if err := x.apply(blobPath(c.storeDir, e.Layer.Digest), e.Layer.MediaType, e.Layer.Digest); err != nil {
			return time.Time{}, fmt.Errorf("%s %s: %w", e.Package, e.Version, err)
		}
	}
	return x.newest, x.finish()
}

// assembleOverlay unpacks the layers the cache lacks (in parallel), checks
// that stacking them means what extracting them would, and mounts
// overlayfs on sc.root.
func (c *composer) assembleOverlay(sc *scratch, base v1.Descriptor) (time.Time, error) {
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
		return time.Time{}, err
	}
	newest, err := checkOverlay(layers, c.mayReplace)
	if err != nil {
		return time.Time{}, err
	}
	upper, work := filepath.Join(sc.dir, "upper"), filepath.Join(sc.dir, "work")
	for _, d := range []string{sc.root, upper, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return time.Time{}, err
		}
	}
	if err := mountOverlay(sc.root, upper, work, layers); err != nil {
		return time.Time{}, err
	}
	sc.overlay = true
	if newest == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, newest), nil
}
