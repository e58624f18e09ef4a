package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/store"
)

// TestUpdateCommand: a store with two published mirror indexes (hello's
// closure; zlib1g newer in the second). An image composed from the first
// is found by `which zlib1g<<NEW`; `deb2fs update` reports zlib1g's
// change and two new layers, and gives the digest `deb2fs compose` gives
// over the second index; `which` no longer finds it. Needs root (compose).
func TestUpdateCommand(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	idx1, idx2, oldV, newV := inspecttest.Snapshots(t)
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	inspecttest.LinkLayers(t, hosttest.CacheStore(t), st, idx1, idx2)
	inspecttest.PublishIndex(t, st, idx1)
	inspecttest.PublishIndex(t, st, idx2)
	out := filepath.Join(t.TempDir(), "images")

	must := func(args ...string) string {
		t.Helper()
		o, e, code := run(t, args...)
		if code != 0 {
			t.Fatalf("deb2fs %s: exit %d\n%s%s", strings.Join(args, " "), code, o, e)
		}
		return o
	}
	must("compose", "-q", "--store", dir, "--index", index.DatedRef(idx1.Created), "-o", "oci:"+out+":app", "hello")
	must("which", "--store", out, "zlib1g<<"+newV)

	res := must("update", "-q", "--store", dir, "--json", "oci:"+out+":app")
	var r struct {
		Old, New    string
		RequestFrom string
		Request     struct{ Install []string }
		Diff        struct {
			Changed []struct {
				Name     string
				Old, New struct{ Version string }
			}
			NewLayers []struct{ Kind string }
			NewBytes  int64
		}
	}
	if err := json.Unmarshal([]byte(res), &r); err != nil {
		t.Fatalf("%v: %s", err, res)
	}
	if len(r.Diff.Changed) != 1 || r.Diff.Changed[0].Name != "zlib1g" || r.Diff.Changed[0].Old.Version != oldV || r.Diff.Changed[0].New.Version != newV {
		t.Errorf("update changed %+v", r.Diff.Changed)
	}
	if len(r.Diff.NewLayers) != 2 || r.Diff.NewBytes == 0 || r.RequestFrom != "label" || strings.Join(r.Request.Install, " ") != "hello" {
		t.Errorf("update: %s", res)
	}
	fresh := must("compose", "-q", "--store", dir, "-o", "oci:"+filepath.Join(t.TempDir(), "fresh")+":fresh", "hello")
	if !strings.Contains(fresh, r.New) {
		t.Errorf("update gave %s, a fresh compose %s", r.New, fresh)
	}
	if _, _, code := run(t, "which", "--store", out, "zlib1g<<"+newV); code != 1 {
		t.Errorf("which after the update: exit %d, want 1 (no image)", code)
	}
	// Already up to date: the same digest again.
	res = must("update", "-q", "--store", dir, "oci:"+out+":app")
	if !strings.Contains(res, "up to date: "+r.New) {
		t.Errorf("second update:\n%s", res)
	}
}
