package compose

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/sandbox"
)

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
