package compose

import (
	"context"
	"os"
	"testing"

	"github.com/deb2fs/deb2fs/resolve"
)

// needRoot skips a test that needs root (unshare, chroot, chown, mknod).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("compose needs root: namespaces, chroot, file ownership")
	}
}

func TestComposeNginxOpenSSH(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"nginx", "openssh-server"}}
	es := hostSet(t, s, req)
	out := t.TempDir()
	img, err := Compose(context.Background(), Options{
		Packages: es, Request: req, Store: s, NoCache: true,
		Output: Output{Kind: "oci", Path: out, Tag: "nginx-ssh"},
		Logf:   t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("image %s (%d layers): %s", img.Manifest.Digest, len(img.Layers), img.Timings)
}
