package imagefile_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/imagefile"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/resolve"
)

var podmanArgs = []string{"--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"}

func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("podman", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// composeDefinition composes a definition over the host's archive into the
// OCI layout out, tagged with the definition's name.
func composeDefinition(t *testing.T, d *imagefile.Definition, out string) *compose.Image {
	t.Helper()
	s := hosttest.CacheStore(t)
	req := resolve.Request{Install: d.Packages, Recommends: d.Recommends}
	es := hosttest.HostSet(t, s, req)
	img, err := compose.Compose(context.Background(), compose.Options{
		Packages: es, Request: req, Store: s,
		Output: compose.Output{Kind: "oci", Path: out, Tag: d.Name},
		Cmd:    d.Cmd, Config: d.Config, Accounts: d.Accounts, Files: d.Files,
		Definition: d.Path + "@" + d.Digest, Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// copyTree copies the example's build context to a new directory.
func copyTree(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	if out, err := exec.Command("cp", "-a", from+"/.", to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return to
}

// The example of docs/imagefile.md: nginx serving a static site from the
// build context as the unprivileged user "site" (an account of the file).
// In podman it answers HTTP 200 with the site's page, runs as uid 1000,
// and dpkg knows nginx as installed. Changing one file of the context
// changes only the files layer (and the config and manifest naming it);
// the configure layer comes from the cache.
func TestExampleSite(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skip(err)
		}
	}
	ctxDir := copyTree(t, "../examples/site")
	d, err := imagefile.Load(filepath.Join(ctxDir, "image.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.MkdirTemp("", "deb2fs-site-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(out) })
	img := composeDefinition(t, d, out)

	fixtures.LockPodman(t)
	id := strings.TrimSpace(podman(t, "pull", "-q", "oci:"+out+":"+d.Name))
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", id).Run() })
	run := func(cmd ...string) string {
		return podman(t, append(append(append([]string{"run", "--rm"}, podmanArgs...), id), cmd...)...)
	}
	if got := run("id", "-un"); got != "site\n" {
		t.Errorf("id -un: %q, want site", got)
	}
	if got := run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "nginx"); got != "ii " {
		t.Errorf("nginx status %q, want ii", got)
	}
	if got := run("pwd"); got != "/srv/site\n" {
		t.Errorf("work dir %q", got)
	}
	if got := run("sh", "-c", "stat -c '%U %a' /srv/site/index.html; echo $SITE_ROOT"); got != "site 644\n/srv/site\n" {
		t.Errorf("index.html owner and mode, environment: %q", got)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	name := fmt.Sprintf("deb2fs-site-%d", port)
	podman(t, append(append([]string{"run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:8080", port)}, podmanArgs...), id)...)
	t.Cleanup(func() { exec.Command("podman", "rm", "-f", name).Run() })
	want, _ := os.ReadFile(filepath.Join(ctxDir, "site/index.html"))
	var body []byte
	var status int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			continue
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		break
	}
	if status != 200 || string(body) != string(want) {
		logs, _ := exec.Command("podman", "logs", name).CombinedOutput()
		t.Fatalf("GET /: %d %q, want 200 %q\n%s", status, body, want, logs)
	}

	// One file changed: only the files layer differs.
	if err := os.WriteFile(filepath.Join(ctxDir, "site/index.html"), []byte("<h1>changed</h1>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d2, err := imagefile.Load(filepath.Join(ctxDir, "image.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	img2 := composeDefinition(t, d2, out)
	if !img2.Cached {
		t.Error("the configure layer was not taken from the cache")
	}
	n := len(img.Layers)
	if len(img2.Layers) != n {
		t.Fatalf("%d layers, then %d", n, len(img2.Layers))
	}
	for i := 0; i < n-1; i++ {
		if img.Layers[i].Digest != img2.Layers[i].Digest {
			t.Errorf("layer %d changed: %s → %s", i, img.Layers[i].Digest, img2.Layers[i].Digest)
		}
	}
	if img.Layers[n-1].Digest == img2.Layers[n-1].Digest || img.Manifest.Digest == img2.Manifest.Digest {
		t.Error("the files layer or the manifest did not change with a file")
	}
	// Nothing changed: the same image.
	img3 := composeDefinition(t, d2, out)
	if img3.Manifest.Digest != img2.Manifest.Digest {
		t.Errorf("composing again gave %s, then %s", img2.Manifest.Digest, img3.Manifest.Digest)
	}
}
