package compose

import (
	"archive/tar"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/sandbox"
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
	c := &composer{opts: Options{Assemble: how}, st: f.st, pkgs: f.pkgs}
	dir, err := os.MkdirTemp(defaultWorkDir(), rootPrefix)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scratch{dir: dir}
	t.Cleanup(sc.remove)
	a, err := c.assemble(sc, f.base, configureRun{})
	if err != nil {
		return sc, nil, err
	}
	return sc, &replacesRun{composer: c, takeovers: a.takeovers}, nil
}

type replacesRun struct {
	*composer
	takeovers []rootfs.Takeover
}

// A composed image with two pairs of packages sharing a file, one pair
// replaced forwards and one backwards in layer order, checked by dpkg
// itself inside the image and against dpkg installing the same .debs:
// the same file contents and file lists, `dpkg --verify` clean, and
// `dpkg -S` naming the replacing package.
func TestReplacesDpkgOracle(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	base := hostSet(t, s, resolve.Request{})
	deb := func(name, dir, replaces string) (fixtures.Deb, index.Entry) {
		fields := []string{}
		if replaces != "" {
			fields = append(fields, "Replaces: "+replaces)
		}
		data := fixtures.Tree(
			fixtures.File("./usr/share/"+dir+"/x", 0o644, "from "+name+"\n"),
			fixtures.File("./usr/share/"+dir+"/"+name, 0o644, name+"\n"),
		)
		d := fixtures.Deb{Control: fixtures.Control(name, fields...), Data: data,
			ControlFiles: map[string][]byte{"md5sums": fixtures.MD5Sums(data)}}
		e := handMade(t, s, d, name)
		e.Replaces = replaces
		return d, e
	}
	// Layer order is by name: a before b, a replacing b (backwards); c
	// before d, d replacing c (forwards).
	da, ea := deb("deb2fs-repl-a", "deb2fs-ab", "deb2fs-repl-b")
	db, eb := deb("deb2fs-repl-b", "deb2fs-ab", "")
	dc, ec := deb("deb2fs-repl-c", "deb2fs-cd", "")
	dd, ed := deb("deb2fs-repl-d", "deb2fs-cd", "deb2fs-repl-c (<< 2)")
	out := t.TempDir()
	img, err := Compose(context.Background(), Options{
		Packages: append(append([]index.Entry(nil), base...), ea, eb, ec, ed), Store: s, NoCache: true,
		Output: output.Layout{Dir: out, Tag: "replaces"},
	})
	if err != nil {
		t.Fatal(err)
	}

	// The image's file system, as a runtime would stack it.
	root := t.TempDir()
	x := rootfs.NewExtractor(root, sandbox.IDs{})
	for _, l := range img.Layers {
		if err := x.Apply(blobPath(out, l.Digest), l.MediaType, l.Digest); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.Finish(); err != nil {
		t.Fatal(err)
	}
	// dpkg installing the same .debs, in an order opposite to the layers'
	// for a and b.
	ref := fixtures.DpkgRoot(t)
	for _, d := range []fixtures.Deb{db, da, dc, dd} {
		p := d.WriteFile(t, filepath.Join(ref, "tmp"), "p.deb")
		if out, err := exec.Command("chroot", ref, "dpkg", "-i", "/tmp/p.deb").CombinedOutput(); err != nil {
			t.Fatalf("dpkg -i: %v\n%s", err, out)
		}
		os.Remove(p)
	}
	var paths []string
	for _, p := range []string{"deb2fs-repl-a", "deb2fs-repl-b", "deb2fs-repl-c", "deb2fs-repl-d"} {
		paths = append(paths, "var/lib/dpkg/info/"+p+".list", "var/lib/dpkg/info/"+p+".md5sums")
	}
	for _, p := range append(paths, "usr/share/deb2fs-ab/x", "usr/share/deb2fs-cd/x") {
		got, err1 := os.ReadFile(filepath.Join(root, p))
		want, err2 := os.ReadFile(filepath.Join(ref, p))
		if err1 != nil || err2 != nil || string(got) != string(want) {
			t.Errorf("%s: image %q (%v), dpkg %q (%v)", p, got, err1, want, err2)
		}
	}
	verify := exec.Command("chroot", root, "dpkg", "--verify", "deb2fs-repl-a", "deb2fs-repl-b", "deb2fs-repl-c", "deb2fs-repl-d")
	if out, err := verify.CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("dpkg --verify in the image: %v\n%s", err, out)
	}
	search := exec.Command("chroot", root, "dpkg", "-S", "/usr/share/deb2fs-ab/x", "/usr/share/deb2fs-cd/x")
	if out, _ := search.CombinedOutput(); string(out) != "deb2fs-repl-a: /usr/share/deb2fs-ab/x\ndeb2fs-repl-d: /usr/share/deb2fs-cd/x\n" {
		t.Errorf("dpkg -S: %q", out)
	}
}
