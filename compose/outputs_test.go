package compose

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
)

// Independent readers accept what compose writes: skopeo and umoci read the
// OCI layout, podman loads the docker-archive.
func TestOutputsReadable(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"nginx", "openssh-server"}}
	es := hostSet(t, s, req)
	out := lowerTempDir(t)
	img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s,
		Output: output.Layout{Dir: out, Tag: "readers"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("skopeo"); err == nil {
		got, err := exec.Command("skopeo", "inspect", "oci:"+out+":readers").CombinedOutput()
		if err != nil || !strings.Contains(string(got), img.Manifest.Digest.String()) {
			t.Errorf("skopeo inspect: %v\n%s", err, got)
		}
	} else {
		t.Log("skopeo not installed")
	}
	if _, err := exec.LookPath("umoci"); err == nil {
		bundle := filepath.Join(t.TempDir(), "bundle")
		got, err := exec.Command("umoci", "unpack", "--image", out+":readers", bundle).CombinedOutput()
		if err != nil {
			t.Errorf("umoci unpack: %v\n%s", err, got)
		} else if st, err := exec.Command("sh", "-c", "grep -c '^Status: install ok installed' "+bundle+"/rootfs/var/lib/dpkg/status").Output(); err != nil || strings.TrimSpace(string(st)) != fmt.Sprint(len(es)) {
			t.Errorf("umoci's rootfs status: %s %v", st, err)
		}
	} else {
		t.Log("umoci not installed")
	}

	archive := filepath.Join(t.TempDir(), "image.tar")
	if _, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s,
		Output: output.DockerArchive{File: archive, Tag: "readers"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := lookPodman(); err != nil {
		t.Skip(err)
	}
	fixtures.LockPodman(t)
	loaded := podman(t, "load", "-q", "-i", archive)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", "deb2fs/readers:latest").Run() })
	t.Logf("podman load: %s", strings.TrimSpace(loaded))
	if got := podmanRun(t, "deb2fs/readers:latest", "dpkg", "--audit"); got != "" {
		t.Errorf("dpkg --audit in the loaded image: %s", got)
	}
}
