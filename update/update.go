package update

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/imageref"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// Options say which image to update and to what.
type Options struct {
	// Store holds the layers (and compose's cache); bare tags name images
	// in it.
	Store *store.Store
	// Ref is the image: a tag in Store or oci:DIR[:TAG].
	Ref string
	// Index is the mirror index to update to.
	Index *index.Index
	// Older yields earlier indexes, newest first: update looks there for
	// the index the image was composed from (the first holding every
	// package of the image at its version), to infer its request and to
	// keep the versions --only leaves alone. It stops at the first match,
	// so indexes can be loaded lazily. May be nil.
	Older iter.Seq[*index.Index]
	// Request, when set, is the image's request; nil means the one the
	// image records (imagespec.LabelRequest), else an inferred one.
	Request *imagespec.RecordedRequest
	// Only, when set, updates only these packages (and whatever their new
	// versions need): every other package of the image is pinned to its
	// version.
	Only []string
	// Tag is the updated image's tag; "" replaces the image's own tag.
	Tag string
	// MaxLayers and SourceDateEpoch apply when the request does not say
	// (0: compose's defaults).
	MaxLayers       int
	SourceDateEpoch int64
	// Recommends follows Recommends when the request is inferred (the
	// image was composed with --install-recommends).
	Recommends bool
	// Logf, if set, receives progress lines (compose's too).
	Logf func(format string, args ...any)
}

// Result is what an update did.
type Result struct {
	Old, New *inspect.Image
	Diff     *inspect.Diff
	// Request is the request composed again; RequestFrom says where it
	// came from: "given", "label" or "inferred" (with "verified" when it
	// resolves to exactly the old image's packages over its index).
	Request     imagespec.RecordedRequest
	RequestFrom string
	// Origin is the index the image was composed from, when found.
	Origin *index.Index
	// Composed is compose's result for the new image.
	Composed *compose.Image
	// Duration is the whole update's time.
	Duration time.Duration
}

// Image composes the image's request again over a newer index. Without
// Only, the result is what `deb2fs compose` of the same request against
// that index gives, byte for byte: package layers whose version did not
// change are the same blobs, new versions bring their own layers, the
// closure may gain or lose packages, and the configure layer is made
// again (or taken from compose's cache). The image is read from its
// manifest and config; only compose reads layers, from the store.
func Image(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	logf := func(format string, args ...any) {
		if opts.Logf != nil {
			opts.Logf(format, args...)
		}
	}
	if opts.Store == nil || opts.Index == nil {
		return nil, errors.New("update: no store or no index")
	}
	out, err := updateOutput(opts.Ref, opts.Tag)
	if err != nil {
		return nil, err
	}
	cat, err := inspect.NewCatalog(opts.Store)
	if err != nil {
		return nil, err
	}
	o := &inspect.Opener{Store: opts.Store, Catalog: cat}
	old, err := o.Open(ctx, opts.Ref)
	if err != nil {
		return nil, err
	}
	if !old.Composed {
		return nil, fmt.Errorf("update: %s was not made by deb2fs compose", opts.Ref)
	}
	res := &Result{Old: old}
	native := old.DebianArchitecture()

	// The index the image came from.
	if holdsAll(opts.Index, old) {
		res.Origin = opts.Index
	} else if opts.Older != nil {
		for ix := range opts.Older {
			if holdsAll(ix, old) {
				res.Origin = ix
				break
			}
		}
	}

	// The request.
	var req imagespec.RecordedRequest
	switch r, err := imagespec.RequestOf(old.Labels); {
	case opts.Request != nil:
		req, res.RequestFrom = *opts.Request, "given"
	case err != nil:
		return nil, fmt.Errorf("%s: %w", old.Ref, err)
	case r != nil && r.Definition != "":
		return nil, fmt.Errorf("update: %s was composed from the image definition %s, whose files, accounts and settings the image does not record: run deb2fs compose -f with it again", opts.Ref, r.Definition)
	case r != nil:
		req, res.RequestFrom = *r, "label"
	default:
		req = imagespec.RecordedRequest{MaxLayers: opts.MaxLayers, SourceDateEpoch: opts.SourceDateEpoch, Recommends: opts.Recommends}
		req.Install, res.RequestFrom = inferVerified(old, res.Origin, opts.Index, native, opts.Recommends, logf)
	}
	if res.RequestFrom != "label" {
		req.Cmd = cmdOf(old)
		if req.MaxLayers == 0 {
			req.MaxLayers = opts.MaxLayers
		}
		if req.SourceDateEpoch == 0 {
			req.SourceDateEpoch = opts.SourceDateEpoch
		}
	}
	res.Request = req
	logf("request (%s): %s", res.RequestFrom, strings.Join(req.Install, " "))

	idx := opts.Index
	install := req.Install
	var recorded *imagespec.RecordedRequest
	if len(opts.Only) > 0 {
		recorded = &req // the image records the user's request, not the pins
		if idx, install, err = pinOthers(old, res.Origin, opts.Index, req.Install, opts.Only); err != nil {
			return nil, err
		}
	}
	img, err := compose.Compose(ctx, compose.Options{
		Index: idx, Request: resolveRequest(install, req.Recommends),
		Store: opts.Store, Output: out,
		SourceDateEpoch: req.SourceDateEpoch, MaxLayers: req.MaxLayers, Cmd: req.Cmd,
		Recorded: recorded, Logf: opts.Logf,
	})
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	res.Composed = img
	newRef := imageref.Ref{Path: out.Name()}
	if l, ok := out.(output.Layout); ok {
		newRef = imageref.Ref{Transport: imageref.OCI, Path: l.Dir, Tag: l.Tag}
	}
	if res.New, err = o.Open(ctx, newRef.String()); err != nil {
		return nil, err
	}
	res.Diff = inspect.Compare(old, res.New)
	res.Duration = time.Since(start)
	return res, nil
}

// updateOutput is where the updated image goes: the layout and tag of
// ref, or tag instead of ref's.
func updateOutput(ref, tag string) (output.Output, error) {
	r, err := imageref.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("update %w", err)
	}
	switch r.Transport {
	case imageref.OCI:
		if tag == "" {
			tag = r.Tag
		}
		if tag == "" || strings.HasPrefix(tag, "sha256:") {
			return nil, fmt.Errorf("update %s: name the tag to write (--tag)", ref)
		}
		return output.Layout{Dir: r.Path, Tag: tag}, nil
	case imageref.Registry:
		return nil, fmt.Errorf("update %s: update an image in the store or an OCI layout, then push it", ref)
	case imageref.DockerArchive:
		return nil, fmt.Errorf("update %s: update an image in the store or an OCI layout, then write it to an archive", ref)
	}
	if tag == "" {
		tag = ref
	}
	if strings.HasPrefix(tag, "sha256:") {
		return nil, fmt.Errorf("update %s: name the tag to write (--tag)", ref)
	}
	return output.Store{Tag: tag}, nil
}

// resolveRequest is compose's request for install.
func resolveRequest(install []string, recommends bool) resolve.Request {
	return resolve.Request{Install: install, Recommends: recommends}
}

// holdsAll reports whether ix has every package of im at its version
// (and architecture, when known).
func holdsAll(ix *index.Index, im *inspect.Image) bool {
	for i := range im.Packages {
		if findEntry(ix, &im.Packages[i]) == nil {
			return false
		}
	}
	return len(im.Packages) > 0
}

// findEntry returns ix's entry for p at p's version, or nil.
func findEntry(ix *index.Index, p *inspect.Package) *index.Entry {
	ps := ix.Packages
	i, _ := slices.BinarySearchFunc(ps, p.Name, func(e index.Entry, name string) int { return strings.Compare(e.Package, name) })
	for ; i < len(ps) && ps[i].Package == p.Name; i++ {
		if ps[i].Version == p.Version && (p.Architecture == "" || ps[i].Architecture == p.Architecture) {
			return &ps[i]
		}
	}
	// Not sorted as the index promises: search it all.
	for j := range ps {
		if ps[j].Package == p.Name && ps[j].Version == p.Version && (p.Architecture == "" || ps[j].Architecture == p.Architecture) {
			return &ps[j]
		}
	}
	return nil
}

// inferVerified infers the image's request and, when the index it came
// from is known, checks that it resolves to exactly the image's packages
// there, adding what the resolution misses (packages in a dependency
// cycle no leaf reaches) until it does.
func inferVerified(old *inspect.Image, origin, latest *index.Index, native string, recommends bool, logf func(string, ...any)) ([]string, string) {
	meta := func(p *inspect.Package) *index.Entry {
		if origin != nil {
			return findEntry(origin, p)
		}
		// The image's own version may be gone: the latest entry of the
		// same name tells its dependencies well enough.
		var best *index.Entry
		for i := range latest.Packages {
			e := &latest.Packages[i]
			if e.Package == p.Name && (best == nil || e.Architecture == native) {
				best = e
			}
		}
		return best
	}
	install := InferRequest(old, meta)
	if origin == nil {
		logf("the index the image was composed from is not known: the inferred request is not verified")
		return install, "inferred"
	}
	for range 5 {
		missing, extra, err := resolveSame(origin, install, recommends, old, native)
		if err != nil {
			logf("the inferred request does not resolve over the image's index: %v", err)
			return install, "inferred"
		}
		if len(missing) == 0 && len(extra) == 0 {
			return install, "inferred, verified"
		}
		if len(missing) == 0 {
			logf("the inferred request brings packages the image lacks: %s", strings.Join(extra, " "))
			return install, "inferred"
		}
		for _, m := range missing {
			if !slices.Contains(install, m) {
				install = append(install, m)
			}
		}
		slices.Sort(install)
	}
	return install, "inferred"
}

// pinOthers is the index and install list of an --only update: the
// request plus every package of the image not in only pinned to its
// version, over the new index completed with the old entries of the
// pinned versions it no longer has.
func pinOthers(old *inspect.Image, origin, latest *index.Index, install, only []string) (*index.Index, []string, error) {
	for _, n := range only {
		if len(old.Find(n)) == 0 {
			return nil, nil, fmt.Errorf("update --only %s: the image has no such package", n)
		}
	}
	merged := &index.Index{Format: latest.Format, Created: latest.Created, Origins: latest.Origins,
		Packages: append([]index.Entry(nil), latest.Packages...)}
	pinned := map[string]bool{}
	for i := range old.Packages {
		pinned[old.Packages[i].Name] = !slices.Contains(only, old.Packages[i].Name)
	}
	var out []string
	for _, x := range install {
		if n, _, _ := strings.Cut(x, "="); !pinned[n] {
			out = append(out, x)
		}
	}
	for i := range old.Packages {
		p := &old.Packages[i]
		if slices.Contains(only, p.Name) {
			continue
		}
		if findEntry(latest, p) == nil {
			var e *index.Entry
			if origin != nil {
				e = findEntry(origin, p)
			}
			if e == nil {
				return nil, nil, fmt.Errorf("update --only: %s %s is in neither the new index nor a known earlier one", p.Name, p.Version)
			}
			merged.Packages = append(merged.Packages, *e)
		}
		out = append(out, p.Name+"="+p.Version)
	}
	slices.SortStableFunc(merged.Packages, func(a, b index.Entry) int {
		return strings.Compare(a.Package, b.Package)
	})
	return merged, out, nil
}
