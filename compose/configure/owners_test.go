package configure

import (
	"archive/tar"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose/rootfs"
)

// replacesLayers are two packages a and b (a first in layer order) that
// ship etc/x, each with its dpkg file list.
func replacesLayers() map[string][]tar.Header {
	layer := func(name string) []tar.Header {
		return []tar.Header{
			{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755},
			{Typeflag: tar.TypeReg, Name: "etc/x", Linkname: "from " + name},
			{Typeflag: tar.TypeReg, Name: "etc/" + name, Linkname: name},
			{Typeflag: tar.TypeDir, Name: "var/", Mode: 0o755},
			{Typeflag: tar.TypeDir, Name: "var/lib/", Mode: 0o755},
			{Typeflag: tar.TypeDir, Name: "var/lib/dpkg/", Mode: 0o755},
			{Typeflag: tar.TypeDir, Name: "var/lib/dpkg/info/", Mode: 0o755},
			{Typeflag: tar.TypeReg, Name: "var/lib/dpkg/info/" + name + ".list", Linkname: "/.\n/etc\n/etc/" + name + "\n/etc/x\n"},
		}
	}
	return map[string][]tar.Header{"a": layer("a"), "b": layer("b")}
}

// Replaces in either layer order leaves what dpkg leaves (research by
// hand with dpkg 1.21: either unpack order gives the replacing package's
// file, and the replaced package's .list loses the path): b after a and
// replacing it, a before b and replacing it; a versioned Replaces that
// b's version does not satisfy is an rootfs.OverlapError. On both assembly paths.
func TestReplacesEitherOrder(t *testing.T) {
	needRoot(t)
	for _, how := range []Assembly{AssembleOverlay, AssembleExtract} {
		for _, tc := range []struct {
			name             string
			replaces         map[string]string
			owner, loser     string
			overlap, restore bool
		}{
			{name: "later replaces earlier", replaces: map[string]string{"b": "a"}, owner: "b", loser: "a"},
			{name: "earlier replaces later", replaces: map[string]string{"a": "b (<< 2)"}, owner: "a", loser: "b", restore: true},
			{name: "version not replaced", replaces: map[string]string{"a": "b (<< 1)"}, overlap: true},
			{name: "no replaces", overlap: true},
		} {
			t.Run(string(how)+"/"+tc.name, func(t *testing.T) {
				f := newOverlayFixture(t, overlayBase, replacesLayers(), "a", "b")
				sc, c, err := f.assembleComposer(t, how, tc.replaces)
				var oe *rootfs.OverlapError
				if tc.overlap {
					if !errors.As(err, &oe) || oe.Path != "etc/x" {
						t.Fatalf("got %v, want an rootfs.OverlapError on etc/x", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				ts := c.takeovers
				if len(ts) != 1 || ts[0].Path != "etc/x" || ts[0].Owner != tc.owner || ts[0].Restore != tc.restore ||
					len(ts[0].Losers) != 1 || ts[0].Losers[0] != tc.loser {
					t.Fatalf("takeovers %+v", ts)
				}
				if err := c.applyTakeovers(sc.root, ts); err != nil {
					t.Fatal(err)
				}
				if data, _ := os.ReadFile(filepath.Join(sc.root, "etc/x")); string(data) != "from "+tc.owner {
					t.Errorf("etc/x = %q, want %s's", data, tc.owner)
				}
				for _, p := range []string{"a", "b"} {
					list, _ := os.ReadFile(filepath.Join(sc.root, "var/lib/dpkg/info", p+".list"))
					if has := strings.Contains(string(list), "/etc/x\n"); has != (p == tc.owner) {
						t.Errorf("%s.list %q: lists /etc/x %v, want %v", p, list, has, p == tc.owner)
					}
					if !strings.Contains(string(list), "/etc/"+p+"\n") {
						t.Errorf("%s.list lost its own file: %q", p, list)
					}
				}
			})
		}
	}
}

// assembleComposer is assembleWith that also returns the composer and
// keeps the takeovers it found.
func (f *overlayFixture) assembleComposer(t *testing.T, how Assembly, replaces map[string]string) (*scratch, *replacesRun, error) {
	t.Helper()
	for i := range f.pkgs {
		f.pkgs[i].Replaces = replaces[f.pkgs[i].Package]
	}
	c := &Builder{opts: Options{Assemble: how}, st: f.st, pkgs: f.pkgs}
	dir, err := os.MkdirTemp(DefaultWorkDir(), RootPrefix)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scratch{dir: dir}
	t.Cleanup(sc.remove)
	a, err := c.assemble(sc, f.base, configureRun{})
	if err != nil {
		return sc, nil, err
	}
	return sc, &replacesRun{Builder: c, takeovers: a.takeovers}, nil
}

type replacesRun struct {
	*Builder
	takeovers []rootfs.Takeover
}
