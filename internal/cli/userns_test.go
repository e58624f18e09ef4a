package cli_test

import (
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// unprivUser is the account scripts/test-user.sh creates, with a
// subordinate id range, for the unprivileged compose test.
const unprivUser = "deb2fs-unpriv"

// TestComposeUnprivileged: `deb2fs compose nginx openssh-server` run by
// an ordinary user (with subordinate ids) re-executes itself in a user
// namespace, assembles with overlayfs and configures in the sandbox, and
// gives the image digest a root compose of the same store gives. A user
// without subordinate ids gets an error that says how to fix it.
func TestComposeUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to the test user needs root")
	}
	u, err := user.Lookup(unprivUser)
	if err != nil {
		t.Skipf("no user %s (scripts/test-user.sh creates it): %v", unprivUser, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)

	// A store the user owns, holding the layers and a mirror index of
	// nginx+openssh-server, and the binary where the user can run it.
	base, err := os.MkdirTemp("", "deb2fs-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	dir := filepath.Join(base, "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cache := hosttest.CacheStore(t)
	es := hosttest.HostSet(t, cache, resolve.Request{Install: []string{"nginx", "openssh-server"}})
	idx := &index.Index{Format: index.FormatVersion, Created: time.Unix(1700000000, 0).UTC(), Packages: es}
	for _, e := range es {
		data, err := os.ReadFile(cache.BlobPath(e.Layer.Digest))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(st.BlobPath(e.Layer.Digest), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inspecttest.PublishIndex(t, st, idx)
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "deb2fs")
	data, err := os.ReadFile(deb2fs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}

	as := func(name string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command("runuser", append([]string{"-u", name, "--", bin}, args...)...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return o.String(), e.String(), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), 0
	}

	// The user first (the store's lock and cache files are then the
	// user's), configuring from scratch; then root, from scratch too.
	o, e, code := as(unprivUser, "compose", "--no-cache", "--store", dir, "--assemble", "overlay", "nginx", "openssh-server")
	if code != 0 {
		t.Fatalf("unprivileged compose: exit %d\n%s%s", code, o, e)
	}
	t.Logf("unprivileged: %s%s", o, e)
	if !strings.Contains(e, "configured (overlay)") {
		t.Errorf("unprivileged compose did not configure over overlayfs:\n%s", e)
	}
	userDigest := strings.Fields(o)[1]
	// What it wrote into the store is the user's.
	var stt syscall.Stat_t
	manifest := filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(userDigest, "sha256:"))
	if err := syscall.Stat(manifest, &stt); err != nil || int(stt.Uid) != uid {
		t.Errorf("the image manifest %s: owner %d, want %d (%v)", manifest, stt.Uid, uid, err)
	}
	o2, e2, code := run(t, "compose", "--no-cache", "--store", dir, "nginx", "openssh-server")
	if code != 0 {
		t.Fatalf("root compose: exit %d\n%s", code, e2)
	}
	if rootDigest := strings.Fields(o2)[1]; rootDigest != userDigest {
		t.Errorf("unprivileged compose gave %s, root gave %s", userDigest, rootDigest)
	}
	// nobody has no subordinate ids.
	_, e, code = as("nobody", "compose", "--store", dir, "nginx")
	if code == 0 || !strings.Contains(e, "subordinate ids") || !strings.Contains(e, "usermod --add-subuids") {
		t.Errorf("compose as nobody: exit %d, %s", code, e)
	}
}
