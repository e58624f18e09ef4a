package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/lockfile"
	"github.com/deb2fs/deb2fs/store"
)

// The lock round trip: `deb2fs lock` over a store whose mirror index has
// hello's closure, then `compose -f --locked` in a fresh store filled from
// a later state of the same mirror (zlib1g newer; the first index kept as
// a dated one) gives the image the first store gave, where a compose
// without the lock picks the new zlib1g. A store without the locked
// zlib1g, a changed definition and a missing lock are clear errors.
// Needs root (compose).
func TestLockRoundTrip(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	idx1, idx2, oldV, newV := inspecttest.Snapshots(t)
	newStore := func(idxs ...*index.Index) string {
		dir := filepath.Join(t.TempDir(), "store")
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		inspecttest.LinkLayers(t, hosttest.CacheStore(t), st, idxs...)
		for _, ix := range idxs {
			inspecttest.PublishIndex(t, st, ix)
		}
		return dir
	}
	ctx := t.TempDir()
	def := filepath.Join(ctx, "image.yaml")
	write := func(yaml string) {
		if err := os.WriteFile(def, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("name: app\npackages: [hello]\nfiles:\n  - {path: /etc/app.conf, src: app.conf}\ncmd: [hello]\n")
	if err := os.WriteFile(filepath.Join(ctx, "app.conf"), []byte("greeting=hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run1 := func(args ...string) (string, string) {
		t.Helper()
		o, e, code := run(t, args...)
		if code != 0 {
			t.Fatalf("deb2fs %s: exit %d\n%s%s", strings.Join(args, " "), code, o, e)
		}
		return o, e
	}
	digest := func(out string) string {
		f := strings.Fields(out)
		if len(f) != 2 {
			t.Fatalf("compose printed %q", out)
		}
		return f[1]
	}

	first := newStore(idx1)
	o, _ := run1("lock", "-f", def, "--store", first)
	if !strings.Contains(o, lockfile.PathFor(def)) {
		t.Errorf("lock printed %q", o)
	}
	l, err := lockfile.Read(lockfile.PathFor(def))
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Packages) != len(idx1.Packages) {
		t.Errorf("%d locked packages, the index's closure has %d", len(l.Packages), len(idx1.Packages))
	}
	for _, p := range l.Packages {
		if p.Name == "zlib1g" && p.Version != oldV {
			t.Errorf("locked zlib1g %s, want %s", p.Version, oldV)
		}
	}
	o, _ = run1("compose", "-q", "--store", first, "-f", def, "--locked", "-o", "oci:"+t.TempDir()+":app")
	want := digest(o)

	later := newStore(idx1, idx2) // latest: idx2
	o, _ = run1("compose", "-q", "--store", later, "-f", def, "--locked", "-o", "oci:"+t.TempDir()+":app")
	if got := digest(o); got != want {
		t.Errorf("compose --locked in a fresh store: %s, the first store gave %s", got, want)
	}
	o, _ = run1("compose", "-q", "--store", later, "-f", def, "-o", "oci:"+t.TempDir()+":app")
	if digest(o) == want {
		t.Errorf("compose without the lock over the later index gave the locked image; zlib1g %s should be in it", newV)
	}

	// A store holding only the later state lacks the locked zlib1g.
	_, e, code := run(t, "compose", "-q", "--store", newStore(idx2), "-f", def, "--locked")
	if code == 0 || !strings.Contains(e, "locked zlib1g "+oldV) {
		t.Errorf("compose --locked without the locked zlib1g: exit %d\n%s", code, e)
	}
	// The definition asks for more: the lock is stale.
	write("name: app\npackages: [hello, zlib1g]\ncmd: [hello]\n")
	_, e, code = run(t, "compose", "-q", "--store", first, "-f", def, "--locked")
	if code == 0 || !strings.Contains(e, "the lock no longer matches the definition") {
		t.Errorf("compose --locked with a changed definition: exit %d\n%s", code, e)
	}
	// A package no source has: an error naming it, no image.
	write("name: app\npackages: [hello, deb2fs-no-such-package]\n")
	outDir := filepath.Join(t.TempDir(), "out")
	_, e, code = run(t, "compose", "-q", "--store", first, "-f", def, "-o", "oci:"+outDir+":app")
	if code == 0 || !strings.Contains(e, "deb2fs-no-such-package") {
		t.Errorf("compose of a package no source has: exit %d\n%s", code, e)
	}
	if _, err := os.Stat(outDir); err == nil {
		t.Errorf("a failed compose made the output %s", outDir)
	}
	os.Remove(lockfile.PathFor(def))
	_, e, code = run(t, "compose", "-q", "--store", first, "-f", def, "--locked")
	if code == 0 || !strings.Contains(e, "image.lock.json") {
		t.Errorf("compose --locked without a lock: exit %d\n%s", code, e)
	}
}

// Bad definitions fail before anything is written, naming the line.
func TestComposeBadDefinition(t *testing.T) {
	ctx := t.TempDir()
	store := filepath.Join(t.TempDir(), "store")
	for _, c := range []struct{ yaml, want string }{
		{"packages: [hello]\nentry-point: [x]\n", "image.yaml:2:1: entry-point: unknown key"},
		{"packages: [hello]\nports: eighty\n", "image.yaml:2:8: ports: got string, want array"},
		{"packages: [hello]\nfiles:\n  - {path: /x, src: missing.txt}\n", "image.yaml:3:21: files[0].src: missing.txt: no such file"},
	} {
		def := filepath.Join(ctx, "image.yaml")
		if err := os.WriteFile(def, []byte(c.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, e, code := run(t, "compose", "--store", store, "-f", def)
		if code == 0 || !strings.Contains(e, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", c.yaml, code, e, c.want)
		}
		if _, err := os.Stat(store); err == nil {
			t.Errorf("%q: the store was made", c.yaml)
		}
	}
	_, e, code := run(t, "compose", "--store", store, "-f", filepath.Join(ctx, "image.yaml"), "hello")
	if code == 0 || !strings.Contains(e, "not both") {
		t.Errorf("-f with packages: exit %d, %q", code, e)
	}
}
