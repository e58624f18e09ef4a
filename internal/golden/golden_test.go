package golden_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/imagefile"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

var update = flag.Bool("update", false, "record the digests of these inputs in testdata/digests.json")

const goldenFile = "testdata/digests.json"

// sde is the time every golden image claims.
const sde = 1767225600 // 2026-01-01

// golden is testdata/digests.json: what each set of inputs gave.
type golden struct {
	// Packages maps a .deb's SHA256 (and convert's format) to its layer
	// and package manifest.
	Packages map[string]pkgDigests `json:"packages"`
	// Images maps the hash of a compose's inputs to what it made.
	Images map[string]imageDigests `json:"images"`
}

type pkgDigests struct {
	Package  string `json:"package"`
	Layer    string `json:"layer"`
	Manifest string `json:"manifest"`
}

type imageDigests struct {
	Name     string   `json:"name"`
	Manifest string   `json:"manifest"`
	Config   string   `json:"config"`
	Layers   []string `json:"layers"` // base, package or group layers, configure layer, files layer
}

func load(t *testing.T) *golden {
	g := &golden{Packages: map[string]pkgDigests{}, Images: map[string]imageDigests{}}
	data, err := os.ReadFile(goldenFile)
	if err == nil {
		err = json.Unmarshal(data, g)
	}
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return g
}

func (g *golden) save(t *testing.T) {
	data, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hashOf hashes lines, the description of some inputs.
func hashOf(lines ...string) string {
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:])
}

// treeHash hashes every file's path, mode and content under dir.
func treeHash(t *testing.T, dir string) string {
	var lines []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %o", strings.TrimPrefix(p, dir), info.Mode())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + hashOf(string(data))
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return hashOf(lines...)
}

// The digests of nginx+openssh-server (as one layer per package and
// within a 40-layer budget) and of the example site's definition, composed
// from the host's archive into a fresh store, are the recorded ones for
// the same inputs. Inputs never recorded (the archive moved on, or
// convert's or compose's format version changed) are reported and, with
// -update, recorded; they are no failure, since nothing says what they
// must give.
func TestGoldenDigests(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	g := load(t)
	s, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	site, err := imagefile.Load("../../examples/site/image.yaml")
	if err != nil {
		t.Fatal(err)
	}
	siteInputs := treeHash(t, "../../examples/site")
	compared, recorded := 0, 0
	check := func(what, key string, got, want any, known bool) {
		t.Helper()
		switch {
		case !known && *update:
			recorded++
		case !known:
			t.Logf("%s: inputs %.12s not recorded (go test ./internal/golden -update records them)", what, key)
		default:
			compared++
			if gs, ws := fmt.Sprint(got), fmt.Sprint(want); gs != ws {
				t.Errorf("%s: inputs %.12s gave %s, recorded %s", what, key, gs, ws)
			}
		}
	}
	for _, c := range []struct {
		name      string
		req       resolve.Request
		maxLayers int
		def       *imagefile.Definition
	}{
		{"nginx+openssh-server", resolve.Request{Install: []string{"nginx", "openssh-server"}}, 0, nil},
		{"nginx+openssh-server --max-layers 40", resolve.Request{Install: []string{"nginx", "openssh-server"}}, 40, nil},
		{"examples/site", resolve.Request{Install: site.Packages, Recommends: site.Recommends}, 0, site},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			es := hosttest.HostSet(t, s, c.req)
			inputs := []string{fmt.Sprintf("compose %d convert %d sde %d max-layers %d request %+v", compose.FormatVersion, convert.FormatVersion, sde, c.maxLayers, c.req)}
			for _, e := range es {
				inputs = append(inputs, fmt.Sprintf("%s %s %s %s", e.Package, e.Version, e.Architecture, e.DebSHA256))
				pkey := hashOf(fmt.Sprint(convert.FormatVersion), e.DebSHA256)
				got := pkgDigests{Package: e.Package, Layer: e.Layer.Digest.String(), Manifest: e.Layer.Manifest.String()}
				want, known := g.Packages[pkey]
				check(e.Package+" "+e.Version, pkey, got, want, known)
				if !known {
					g.Packages[pkey] = got
				}
			}
			opts := compose.Options{Packages: es, Request: c.req, Store: s, SourceDateEpoch: sde, MaxLayers: c.maxLayers,
				Output: output.Layout{Dir: t.TempDir(), Tag: "golden"}}
			if c.def != nil {
				inputs = append(inputs, "definition "+siteInputs)
				opts.Cmd, opts.Config, opts.Accounts, opts.Files = c.def.Cmd, c.def.Config, c.def.Accounts, c.def.Files
				opts.Definition = filepath.Base(c.def.Path) + "@" + c.def.Digest
			}
			img, err := compose.Compose(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			got := imageDigests{Name: c.name, Manifest: img.Manifest.Digest.String(), Config: img.Config.String()}
			for _, l := range img.Layers {
				got.Layers = append(got.Layers, l.Digest.String())
			}
			key := hashOf(inputs...)
			want, known := g.Images[key]
			check(c.name, key, got, want, known)
			if !known {
				g.Images[key] = got
			}
			t.Logf("%s: %d packages, image %s", c.name, len(es), got.Manifest)
		})
	}
	t.Logf("%d digests compared with the recorded ones, %d recorded now", compared, recorded)
	if *update && recorded > 0 {
		g.save(t)
	}
}
