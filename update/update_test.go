package update_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/internal/registrytest"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/update"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("compose needs root: namespaces, chroot, file ownership")
	}
}

// The acceptance test of issue 6: an image composed from snapshot 1,
// updated to snapshot 2, has the digest of a fresh compose from snapshot
// 2; the update changed zlib1g and nothing else; which finds the image
// by the old version range before and not after; pushing the update
// where the old image is uploads the new zlib1g layer, the configure
// layer, the config and the manifest, nothing else.
func TestUpdateMatchesFreshCompose(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	idx1, idx2, oldV, newV := inspecttest.Snapshots(t)
	st := hosttest.CacheStore(t)
	out := t.TempDir()
	req := resolve.Request{Install: []string{"hello"}}
	orig, err := compose.Compose(ctx, compose.Options{Index: idx1, Request: req, Store: st,
		Output: output.Layout{Dir: out, Tag: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compose from snapshot 1: %d packages, %s", len(orig.Packages), orig.Timings)

	q, _ := inspect.ParseQuery("zlib1g<<" + newV)
	which := func() int {
		ims, errs := (&inspect.Opener{}).LayoutImages(out)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return len(inspect.Which(ims, q))
	}
	if n := which(); n != 1 {
		t.Errorf("before the update, which %s finds %d images, want 1", q, n)
	}
	// Keep the old image under another tag for the push below.
	p, _ := layout.FromPath(out)
	oldImg, err := p.Image(orig.Manifest.Digest)
	if err != nil {
		t.Fatal(err)
	}

	res, err := update.Image(ctx, update.Options{
		Store: st, Ref: "oci:" + out + ":app", Index: idx2,
		Older: slices.Values([]*index.Index{idx1}),
		Logf:  t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("update: %s (compose %s)", res.Duration.Round(time.Millisecond), res.Composed.Timings)
	if res.RequestFrom != "label" || strings.Join(res.Request.Install, " ") != "hello" {
		t.Errorf("request %q from %q, want hello from the image's label", res.Request.Install, res.RequestFrom)
	}
	if res.Origin != idx1 {
		t.Error("the image's index was not recognised")
	}

	fresh, err := compose.Compose(ctx, compose.Options{Index: idx2, Request: req, Store: st,
		Output: output.Layout{Dir: t.TempDir(), Tag: "fresh"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.New.Digest != fresh.Manifest.Digest {
		t.Errorf("updated image %s, fresh compose %s: not bit-identical", res.New.Digest, fresh.Manifest.Digest)
	}
	d := res.Diff
	if len(d.Added)+len(d.Removed) != 0 || len(d.Changed) != 1 || d.Changed[0].Name != "zlib1g" ||
		d.Changed[0].Old.Version != oldV || d.Changed[0].New.Version != newV {
		t.Errorf("diff: %+v", d)
	}
	var zlib string
	for _, e := range idx2.Packages {
		if e.Package == "zlib1g" {
			zlib = e.Layer.Digest.String()
		}
	}
	if len(d.NewLayers) != 2 || d.NewLayers[0].Digest.String() != zlib || d.NewLayers[1].Kind != imagespec.LayerKindConfigure {
		t.Errorf("new layers %+v, want zlib1g's and the configure layer", d.NewLayers)
	}
	if n := which(); n != 0 {
		t.Errorf("after the update, which %s finds %d images", q, n)
	}

	// Push the old image, then the new one over it, counting uploads.
	reg := registrytest.Start(t).Addr
	proxy := registrytest.NewCountingProxy(t, reg)
	ref, _ := name.ParseReference(proxy.Addr + "/apps/hello:latest")
	if err := remote.Write(ref, oldImg); err != nil {
		t.Fatal(err)
	}
	proxy.Requests()
	newImg, err := p.Image(res.New.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, newImg); err != nil {
		t.Fatal(err)
	}
	var uploads []string
	for _, r := range proxy.Requests() {
		if strings.HasPrefix(r, "PUT ") {
			uploads = append(uploads, r)
		}
	}
	want := []string{zlib, d.NewLayers[1].Digest.String(), res.New.Config.String()}
	if len(uploads) != 4 {
		t.Errorf("%d PUTs, want 4 (zlib1g layer, configure layer, config, manifest): %v", len(uploads), uploads)
	}
	for _, w := range want {
		if !slices.ContainsFunc(uploads, func(u string) bool {
			return strings.Contains(u, "digest="+strings.ReplaceAll(w, ":", "%3A")) || strings.Contains(u, "digest="+w)
		}) {
			t.Errorf("%s was not uploaded: %v", w, uploads)
		}
	}
	t.Logf("push of the update: %d PUTs; diff says %d bytes to upload", len(uploads), d.NewBytes)
}

// TestUpdateOnly: --only hello leaves zlib1g at its old version, which
// the new index no longer has (it comes from the image's own index), so
// the result is the original image, digest for digest; --only zlib1g is
// the full update; --only a package the image lacks is refused.
func TestUpdateOnly(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	idx1, idx2, _, newV := inspecttest.Snapshots(t)
	st := hosttest.CacheStore(t)
	out := t.TempDir()
	req := resolve.Request{Install: []string{"hello"}}
	orig, err := compose.Compose(ctx, compose.Options{Index: idx1, Request: req, Store: st,
		Output: output.Layout{Dir: out, Tag: "app"}})
	if err != nil {
		t.Fatal(err)
	}
	run := func(only ...string) (*update.Result, error) {
		return update.Image(ctx, update.Options{
			Store: st, Ref: "oci:" + out + ":app", Index: idx2, Only: only, Tag: "updated",
			Older: slices.Values([]*index.Index{idx1}),
		})
	}
	res, err := run("hello")
	if err != nil {
		t.Fatal(err)
	}
	if res.New.Digest != orig.Manifest.Digest || !res.Diff.Empty() {
		t.Errorf("--only hello: %s, want the original %s; diff %+v", res.New.Digest, orig.Manifest.Digest, res.Diff)
	}
	res, err = run("zlib1g")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Diff.Changed) != 1 || res.Diff.Changed[0].New.Version != newV {
		t.Errorf("--only zlib1g: %+v", res.Diff.Changed)
	}
	if _, err := run("nginx"); err == nil || !strings.Contains(err.Error(), "nginx") {
		t.Errorf("--only nginx (not in the image): %v", err)
	}
}
