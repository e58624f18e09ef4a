package inspecttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/store"
)

// As compose's tests do, until a test can run `deb2fs mirror` cheaply:
// an index of the host's Packages lists (as apt sees them), and the
// layers of a resolved set converted into a store kept in the fixtures
// cache (a layer is a pure function of its .deb).

// Rebuild repacks the real .deb of e with control fields replaced
// (dpkg-deb -R, edit, dpkg-deb -b), converts it into s and returns its
// index entry: the same dependencies, the new version and layer.
func Rebuild(t testing.TB, s *store.Store, e index.Entry, version string) index.Entry {
	t.Helper()
	deb := fixtures.RealDebs(t, e.Package)[e.Package]
	dir := t.TempDir()
	tree := filepath.Join(dir, "tree")
	if out, err := exec.Command("dpkg-deb", "-R", deb, tree).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -R: %v\n%s", err, out)
	}
	ctl := filepath.Join(tree, "DEBIAN", "control")
	data, err := os.ReadFile(ctl)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Version: ") {
			lines[i] = "Version: " + version
		}
	}
	if err := os.WriteFile(ctl, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "new.deb")
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "-b", tree, out)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -b: %v\n%s", err, b)
	}
	r := convert.Batch(context.Background(), []convert.Job{{Path: out}}, s, convert.BatchOptions{})[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	ne := e
	ne.Version, ne.DebSHA256, ne.Filename, ne.Layer = version, r.Layer.DebSHA256, "", hosttest.LayerOf(t, s, r.Layer)
	return ne
}
