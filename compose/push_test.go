package compose

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/resolve"
)

// startRegistry starts the Distribution registry (Debian package
// docker-registry) on a free 127.0.0.1 port with its storage in a
// temporary directory, and returns its host:port.
func startRegistry(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry is not installed (scripts/install-deps.sh installs it)")
	}
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n  secret: deb2fs-test\n",
		filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
	})
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return addr
			}
		}
	}
	t.Fatalf("docker-registry did not answer on %s", addr)
	return ""
}

// Pushing to a registry uploads only the blobs it lacks: a second image
// that shares its package layers uploads its configure layer and config.
// The pushed image pulls and runs.
func TestPushRegistry(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	addr := startRegistry(t)
	var imgs []*Image
	for i, names := range [][]string{{"nginx", "openssh-server"}, {"nginx"}} {
		req := resolve.Request{Install: names}
		img, err := Compose(context.Background(), Options{Packages: hostSet(t, s, req), Request: req, Store: s,
			Output: Output{Kind: "docker", Path: fmt.Sprintf("%s/deb2fs/test:%d", addr, i)}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d layers, %d blobs uploaded, %s", names, len(img.Layers), img.Pushed.Blobs, img.Timings)
		imgs = append(imgs, img)
	}
	if got, want := imgs[0].Pushed.Blobs, len(imgs[0].Layers)+1; got != want {
		t.Errorf("first push uploaded %d blobs, want every layer and the config: %d", got, want)
	}
	if got := imgs[1].Pushed.Blobs; got != 2 {
		t.Errorf("second push uploaded %d blobs, want 2 (configure layer and config)", got)
	}
	if _, err := lookPodman(); err != nil {
		t.Skip(err)
	}
	fixtures.LockPodman(t)
	ref := fmt.Sprintf("%s/deb2fs/test:1", addr)
	podman(t, "pull", "-q", "--tls-verify=false", ref)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", ref).Run() })
	if got := podmanRun(t, ref, "dpkg", "--audit"); got != "" {
		t.Errorf("dpkg --audit in the pulled image: %s", got)
	}
}
