// Package inspecttest builds what the tests of inspect and of the deb2fs
// commands over it need: package layers converted from fixture .debs into
// a store, images shaped like compose's over them (without root), and a
// docker-registry on 127.0.0.1 behind a proxy that records requests.
package inspecttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/store"
)

// EdgeDeb returns the fixture edge case named name, optionally with
// control fields replaced ("Version: 2.0").
func EdgeDeb(t testing.TB, name string, fields ...string) fixtures.Deb {
	t.Helper()
	for _, e := range fixtures.EdgeCases() {
		if e.Name == name {
			d := e.Deb
			if len(fields) > 0 {
				pkg := strings.TrimPrefix(strings.SplitN(d.Control, "\n", 2)[0], "Package: ")
				var keep []string
				for _, line := range strings.Split(strings.TrimRight(d.Control, "\n"), "\n") {
					if k, _, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") && k != "Package" {
						keep = append(keep, line)
					}
				}
				// Fields given replace the edge case's own.
				d.Control = fixtures.Control(pkg, append(keep, fields...)...)
			}
			return d
		}
	}
	t.Fatalf("no edge case %q", name)
	return fixtures.Deb{}
}

// ConvertDebs converts debs into st and lists their package images in
// st's index.json, as a mirror run does.
func ConvertDebs(t testing.TB, st *store.Store, debs ...fixtures.Deb) []*convert.Layer {
	t.Helper()
	dir := t.TempDir()
	var jobs []convert.Job
	for i, d := range debs {
		jobs = append(jobs, convert.Job{Path: d.WriteFile(t, dir, fmt.Sprintf("%d.deb", i))})
	}
	var out []*convert.Layer
	var keys []convert.Key
	for _, r := range convert.Batch(context.Background(), jobs, st, convert.BatchOptions{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out = append(out, r.Layer)
		keys = append(keys, convert.Key{DebSHA256: r.Layer.DebSHA256, Compression: convert.Gzip})
	}
	if err := st.Publish(keys); err != nil {
		t.Fatal(err)
	}
	return out
}

// Part is one package layer of a test image: a package's own layer, or
// a group of packages merged into one layer.
type Part struct {
	Group string
	Pkgs  []*convert.Layer
}

// Single is the part of a package with its own layer.
func Single(l *convert.Layer) Part { return Part{Pkgs: []*convert.Layer{l}} }

// BuildImage writes an image shaped like compose's into the OCI layout
// dir, tagged tag: a base layer, the parts' layers annotated as compose
// annotates them (package, version, architecture on a package's own
// layer; group name and NAME=VERSION members on a group layer), a
// configure layer and a config with compose's labels. Package layers are
// the store's blobs; base, group and configure layers are random.
func BuildImage(t testing.TB, st *store.Store, dir, tag string, parts ...Part) v1.Image {
	t.Helper()
	randomLayer := func() v1.Layer {
		l, err := random.Layer(512, types.OCILayer)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	adds := []mutate.Addendum{{Layer: randomLayer()}}
	var all []string
	for _, p := range parts {
		var nvs []string
		for _, l := range p.Pkgs {
			nvs = append(nvs, l.Package+"="+l.Version)
		}
		all = append(all, nvs...)
		if p.Group != "" {
			adds = append(adds, mutate.Addendum{Layer: randomLayer(), Annotations: map[string]string{
				imagespec.AnnotationGroup: p.Group, imagespec.AnnotationGroupPackages: strings.Join(nvs, ","),
			}})
			continue
		}
		l := p.Pkgs[0]
		layer, err := tarball.LayerFromFile(st.BlobPath(l.Digest), tarball.WithMediaType(l.MediaType))
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.Addendum{Layer: layer, Annotations: map[string]string{
			imagespec.AnnotationPackage: l.Package, imagespec.AnnotationVersion: l.Version,
			imagespec.AnnotationArchitecture: l.Architecture,
		}})
	}
	adds = append(adds, mutate.Addendum{Layer: randomLayer()})
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), adds...)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Created = v1.Time{Time: time.Unix(1700000000, 0).UTC()}
	cfg.Config.Cmd = []string{"/bin/bash"}
	cfg.Config.Labels = map[string]string{
		imagespec.LabelPackages: strings.Join(all, ","),
		imagespec.LabelCompose:  "2",
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.ReplaceImage(img, MatchRef(tag), layout.WithAnnotations(map[string]string{imagespec.AnnotationRefName: tag})); err != nil {
		t.Fatal(err)
	}
	return img
}

// MatchRef matches index.json entries named ref.
func MatchRef(ref string) func(v1.Descriptor) bool {
	return func(d v1.Descriptor) bool { return d.Annotations[imagespec.AnnotationRefName] == ref }
}

// LayerDigests returns the digests of img's layers.
func LayerDigests(t testing.TB, img v1.Image) []v1.Hash {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// RemoveBlobs deletes blobs from the layout dir: what inspect must not
// need.
func RemoveBlobs(t testing.TB, dir string, hs []v1.Hash) {
	t.Helper()
	for _, h := range hs {
		if err := os.Remove(filepath.Join(dir, "blobs", h.Algorithm, h.Hex)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// FreePort returns a TCP port free on 127.0.0.1.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
