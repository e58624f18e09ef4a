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

	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/registrytest"
	"github.com/deb2fs/deb2fs/output"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/imagefile"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/localdeb"
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
	return composeTo(t, d, output.Layout{Dir: out, Tag: d.Name})
}

// composeTo composes a definition to an output.
func composeTo(t *testing.T, d *imagefile.Definition, out output.Output) *compose.Image {
	t.Helper()
	s := hosttest.CacheStore(t)
	req := resolve.Request{Install: d.Packages, Recommends: d.Recommends}
	es := hosttest.HostSet(t, s, req)
	if len(d.Debs) > 0 {
		// The local packages join the host's index; what they need from
		// the archive must be in the archive part's closure already.
		idx, pins, err := localdeb.Add(context.Background(), s, hosttest.HostIndex(t), d.Debs)
		if err != nil {
			t.Fatal(err)
		}
		req.Install = append(append([]string(nil), req.Install...), pins...)
		all, err := idx.Resolve(req, "")
		if err != nil {
			t.Fatal(err)
		}
		have := map[string]index.Entry{}
		for _, e := range es {
			have[e.Package+"_"+e.Version] = e
		}
		es = es[:0:0]
		for _, e := range all {
			if h, ok := have[e.Package+"_"+e.Version]; ok {
				es = append(es, h)
			} else if strings.HasPrefix(e.Filename, localdeb.FilenamePrefix) {
				es = append(es, e)
			} else {
				t.Fatalf("the local packages pull in %s, not in the archive closure", e.Package)
			}
		}
	}
	img, err := compose.Compose(context.Background(), compose.Options{
		Packages: es, Request: req, Store: s,
		Output: out,
		Cmd:    d.Cmd, Config: d.Config, Accounts: d.Accounts, Files: d.Files,
		Definition: filepath.Base(d.Path) + "@" + d.Digest, Logf: t.Logf,
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
	buildLocalDeb(t, ctxDir)
	def, err := os.OpenFile(filepath.Join(ctxDir, "image.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(def, "debs: [site-tools_1.0_all.deb]\n")
	def.Close()
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
	if got := run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}${Version}", "site-tools"); got != "ii 1.0" {
		t.Errorf("the local package: %q, want ii 1.0", got)
	}
	if got := run("sh", "-c", "site-hello; cat /var/lib/site-tools/stamp"); got != "hello from site-tools\nconfigured\n" {
		t.Errorf("the local package's program and postinst: %q", got)
	}
	t.Run("inspect", func(t *testing.T) {
		cat, err := inspect.NewCatalog(hosttest.CacheStore(t))
		if err != nil {
			t.Fatal(err)
		}
		im, err := (&inspect.Opener{Catalog: cat}).Open(context.Background(), "oci:"+out+":"+d.Name)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range im.Packages {
			found = found || p.Name == "site-tools" && p.Version == "1.0"
		}
		if !found {
			t.Errorf("inspect lists no site-tools 1.0 in %d packages", len(im.Packages))
		}
		if k := im.Layers[len(im.Layers)-1].Kind; k != imagespec.LayerKindFiles {
			t.Errorf("last layer kind %q, want files", k)
		}
		if k := im.Layers[len(im.Layers)-2].Kind; k != imagespec.LayerKindConfigure {
			t.Errorf("last but one layer kind %q, want configure", k)
		}
		var sbom strings.Builder
		if err := inspect.WriteSPDX(&sbom, im, inspect.SBOMOptions{Tool: "deb2fs-test"}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sbom.String(), "pkg:deb/debian/site-tools@1.0") {
			t.Errorf("the SBOM does not list site-tools:\n%.2000s", sbom.String())
		}
	})
	if got := run("pwd"); got != "/srv/site\n" {
		t.Errorf("work dir %q", got)
	}
	if got := run("sh", "-c", "stat -c '%U %a' /srv/site/index.html; echo $SITE_ROOT"); got != "site 644\n/srv/site\n" {
		t.Errorf("index.html owner and mode, environment: %q", got)
	}

	port := freePort(t)
	name := fmt.Sprintf("deb2fs-site-%d", port)
	podman(t, append(append([]string{"run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:8080", port)}, podmanArgs...), id)...)
	t.Cleanup(func() { exec.Command("podman", "rm", "-f", name).Run() })
	want, _ := os.ReadFile(filepath.Join(ctxDir, "site/index.html"))
	if status, body := get(port); status != 200 || body != string(want) {
		logs, _ := exec.Command("podman", "logs", name).CombinedOutput()
		t.Fatalf("GET /: %d %q, want 200 %q\n%s", status, body, want, logs)
	}

	t.Run("docker", func(t *testing.T) {
		host := fixtures.Docker(t)
		docker := func(args ...string) string {
			t.Helper()
			out, err := exec.Command("docker", append([]string{"-H", host}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			return string(out)
		}
		archive := filepath.Join(t.TempDir(), "site.tar")
		s := hosttest.CacheStore(t)
		req := resolve.Request{Install: append(d.Packages, "site-tools=1.0")}
		if _, err := compose.Compose(context.Background(), compose.Options{
			Packages: img.Packages, Request: req, Store: s,
			Output: output.DockerArchive{File: archive, Tag: "site"},
			Cmd:    d.Cmd, Config: d.Config, Accounts: d.Accounts, Files: d.Files,
			Definition: filepath.Base(d.Path) + "@" + d.Digest,
		}); err != nil {
			t.Fatal(err)
		}
		loaded := docker("load", "-i", archive)
		ref := ""
		for _, l := range strings.Split(loaded, "\n") {
			if r, ok := strings.CutPrefix(l, "Loaded image: "); ok {
				ref = strings.TrimSpace(r)
			}
		}
		if ref == "" {
			t.Fatalf("docker load printed %q", loaded)
		}
		t.Cleanup(func() { exec.Command("docker", "-H", host, "rmi", "-f", ref).Run() })
		if got := docker("run", "--rm", ref, "id", "-un"); got != "site\n" {
			t.Errorf("docker: id -un %q", got)
		}
		port := freePort(t)
		name := fmt.Sprintf("deb2fs-site-docker-%d", port)
		docker("run", "-d", "--name", name, "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), ref)
		t.Cleanup(func() { exec.Command("docker", "-H", host, "rm", "-f", name).Run() })
		if status, body := get(port); status != 200 || body != string(want) {
			logs, _ := exec.Command("docker", "-H", host, "logs", name).CombinedOutput()
			t.Errorf("docker: GET /: %d %q, want 200 %q\n%s", status, body, want, logs)
		}
	})

	// One file changed: only the files layer differs, and a push
	// uploads it and the config alone.
	registry := registrytest.Start(t).Addr
	repo := registry + "/deb2fs/site"
	if pushed := composeTo(t, d, output.Registry{Ref: repo + ":1"}); pushed.Pushed.Blobs != len(pushed.Layers)+1 {
		t.Errorf("first push uploaded %d blobs, want %d", pushed.Pushed.Blobs, len(pushed.Layers)+1)
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "site/index.html"), []byte("<h1>changed</h1>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d2, err := imagefile.Load(filepath.Join(ctxDir, "image.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	img2 := composeDefinition(t, d2, out)
	if pushed := composeTo(t, d2, output.Registry{Ref: repo + ":2"}); pushed.Pushed.Blobs != 2 {
		t.Errorf("pushing the image with one file changed uploaded %d blobs, want 2 (the files layer and the config)", pushed.Pushed.Blobs)
	}
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

// buildLocalDeb builds site-tools_1.0_all.deb in dir with dpkg-deb: a
// program, and a postinst leaving a stamp; it depends on nginx.
func buildLocalDeb(t *testing.T, dir string) {
	t.Helper()
	root := t.TempDir()
	for name, data := range map[string]string{
		"DEBIAN/control": "Package: site-tools\nVersion: 1.0\nArchitecture: all\nMaintainer: deb2fs tests <tests@deb2fs.invalid>\n" +
			"Depends: nginx\nDescription: the example site's tools\n",
		"DEBIAN/postinst":    "#!/bin/sh\nset -e\nmkdir -p /var/lib/site-tools\necho configured > /var/lib/site-tools/stamp\n",
		"usr/bin/site-hello": "#!/bin/sh\necho hello from site-tools\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "DEBIAN/control"), 0o644)
	out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, filepath.Join(dir, "site-tools_1.0_all.deb")).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get fetches http://127.0.0.1:PORT/, retrying for 20 s while the server
// starts; status 0 when it never answered.
func get(port int) (int, string) {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	return 0, ""
}
