package compose

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
)

// needRoot skips a test that needs root (unshare, chroot, chown, mknod).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("compose needs root: namespaces, chroot, file ownership")
	}
}

// podmanArgs are the flags podman needs on these hosts
// (research/tools.md): crun refuses the hybrid cgroup setup, and the
// default ulimits are too high for the kernel's limits in the sandbox.
var podmanArgs = []string{"--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"}

// lookPodman reports whether podman and runc are installed.
func lookPodman() (string, error) {
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("%s is not installed (scripts/install-deps.sh installs podman and runc): %v", tool, err)
		}
	}
	return "podman", nil
}

// needPodman skips a test when podman or runc is missing.
func needPodman(t *testing.T) {
	t.Helper()
	if _, err := lookPodman(); err != nil {
		t.Skip(err)
	}
	fixtures.LockPodman(t)
}

// lowerTempDir is a temporary directory with a lower-case path: podman
// names an image pulled from oci:DIR after DIR, which must be lower case,
// and t.TempDir() is not.
func lowerTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "deb2fs-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// pull copies the image tagged ref in the layout dir into podman's
// storage and returns its id, removed when the test ends.
func pull(t *testing.T, dir, ref string) string {
	t.Helper()
	id := strings.TrimSpace(podman(t, "pull", "-q", "oci:"+dir+":"+ref))
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", id).Run() })
	return id
}

func podman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("podman", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// podmanRun runs a command in a new container of image and returns its
// output (stdout and stderr).
func podmanRun(t *testing.T, image string, cmd ...string) string {
	t.Helper()
	args := append([]string{"run", "--rm"}, podmanArgs...)
	return podman(t, append(append(args, image), cmd...)...)
}

// freePort returns a TCP port free on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// The end-to-end acceptance test of issue 4: compose nginx and
// openssh-server from the host's archive, run the image with podman, and
// check it as a Debian system and as a server.
func TestE2ENginxOpenSSH(t *testing.T) {
	needRoot(t)
	needPodman(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"nginx", "openssh-server"}}
	t0 := time.Now()
	es := hostSet(t, s, req)
	t.Logf("resolve, fetch and convert (cached after the first run): %s, %d packages", time.Since(t0).Round(time.Millisecond), len(es))

	out := lowerTempDir(t)
	const tagName = "e2e-nginx-openssh-server"
	compose := func(noCache bool, how configure.Assembly) *Image {
		img, err := Compose(context.Background(), Options{
			Packages: es, Request: req, Store: s, NoCache: noCache, Assemble: how,
			Output: output.Layout{Dir: out, Tag: tagName},
			Logf:   t.Logf,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("image %s, %d layers, cached %v, assembled %q: %s", img.Manifest.Digest, len(img.Layers), img.Cached, img.Assembled, img.Timings)
		return img
	}
	// The overlay path, the cache, then the extraction path: one digest.
	img := compose(true, configure.AssembleOverlay)
	if img.Assembled != "overlay" {
		t.Errorf("assembled %q, want overlay", img.Assembled)
	}
	again := compose(false, configure.AssembleOverlay)
	if !again.Cached || again.Manifest.Digest != img.Manifest.Digest {
		t.Errorf("second compose: cached %v, digest %s, want cached and %s", again.Cached, again.Manifest.Digest, img.Manifest.Digest)
	}
	if again.Timings.Total > time.Second {
		t.Errorf("cached compose took %s, want ≤ 1 s", again.Timings.Total)
	}
	fresh := compose(true, configure.AssembleExtract)
	if fresh.Manifest.Digest != img.Manifest.Digest || fresh.Assembled != "extract" {
		t.Errorf("configuring again over extracted layers gave %s (configure layer %s), the overlay run %s (configure layer %s): not reproducible",
			fresh.Manifest.Digest, fresh.Layers[len(fresh.Layers)-1].Digest, img.Manifest.Digest, img.Layers[len(img.Layers)-1].Digest)
	}
	if len(img.Layers) > 127 {
		t.Errorf("%d layers: over the runtimes' limit", len(img.Layers))
	}

	t.Run("same-set-as-apt", func(t *testing.T) {
		// apt on the minimal merged-/usr base (the Essential set plus
		// usr-is-merged) and the request, as mmdebstrap's essential variant
		// with the merged-usr hook would run it.
		names := hostUniverseBase(t)
		want := aptInstalls(t, append(names, req.Install...))
		var got []string
		for _, e := range img.Packages {
			got = append(got, e.Package+" "+e.Version)
		}
		sort.Strings(got)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("image packages differ from apt's:\n image: %v\n apt:   %v", got, want)
		}
	})

	t.Run("no-private-keys", func(t *testing.T) {
		for _, l := range img.Layers {
			for _, hit := range secretsIn(t, blobPath(out, l.Digest), l) {
				t.Errorf("layer %s (%s): %s", l.Digest, l.Annotations[imagespec.AnnotationPackage], hit)
			}
		}
	})

	t1 := time.Now()
	id := pull(t, out, tagName)
	t.Logf("podman pull: %s", time.Since(t1).Round(time.Millisecond))

	t.Run("dpkg", func(t *testing.T) {
		if got := podmanRun(t, id, "dpkg", "--audit"); got != "" {
			t.Errorf("dpkg --audit printed:\n%s", got)
		}
		status := podmanRun(t, id, "dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n")
		lines := strings.Split(strings.TrimSpace(status), "\n")
		ii := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "ii ") {
				ii++
			} else {
				t.Errorf("not installed: %q", l)
			}
		}
		if ii != len(es) {
			t.Errorf("%d packages ii, want %d", ii, len(es))
		}
		t.Logf("%d packages ii", ii)
		if got := podmanRun(t, id, "dpkg", "--verify"); got != "" {
			t.Errorf("dpkg --verify flagged:\n%s", got)
		}
		if got := podmanRun(t, id, "sh", "-c", "if [ -e /etc/machine-id ]; then wc -c < /etc/machine-id; else echo absent; fi"); strings.TrimSpace(got) != "0" && strings.TrimSpace(got) != "absent" {
			t.Errorf("/etc/machine-id is not empty: %s bytes", got)
		}
	})

	t.Run("serve", func(t *testing.T) {
		keys := map[string]string{}
		ctrs, sshPorts := map[string]string{}, map[string]int{}
		for _, name := range []string{"a", "b"} {
			httpPort, sshPort := freePort(t), freePort(t)
			args := append([]string{"run", "-d"}, podmanArgs...)
			args = append(args, "-p", fmt.Sprintf("127.0.0.1:%d:80", httpPort), "-p", fmt.Sprintf("127.0.0.1:%d:22", sshPort), id,
				"sh", "-c", `mkdir -p /run/sshd && /usr/sbin/sshd -e && exec /usr/sbin/nginx -g "daemon off;"`)
			ctr := strings.TrimSpace(podman(t, args...))
			t.Cleanup(func() { exec.Command("podman", "rm", "-f", ctr).Run() })
			start := time.Now()
			code := 0
			for time.Since(start) < 20*time.Second {
				if resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", httpPort)); err == nil {
					code = resp.StatusCode
					resp.Body.Close()
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if code != 200 {
				logs, _ := exec.Command("podman", "logs", ctr).CombinedOutput()
				t.Fatalf("container %s: nginx answered %d, want 200\n%s", name, code, logs)
			}
			t.Logf("container %s: HTTP 200 after %s", name, time.Since(start).Round(time.Millisecond))
			if _, err := exec.LookPath("ssh-keyscan"); err != nil {
				t.Skip("ssh-keyscan is not installed on the host (openssh-client)")
			}
			keys[name] = hostKey(t, ctr, sshPort)
			ctrs[name], sshPorts[name] = ctr, sshPort
			t.Logf("container %s: sshd host key …%s", name, keys[name][len(keys[name])-16:])
		}
		if keys["a"] == keys["b"] {
			t.Errorf("two containers share the ssh host key %s", keys["a"])
		}
		// A restarted container keeps its keys: firstboot ran once.
		podman(t, "restart", ctrs["a"])
		if k := hostKey(t, ctrs["a"], sshPorts["a"]); k != keys["a"] {
			t.Errorf("container a changed its host key on restart: …%s, was …%s", k[len(k)-16:], keys["a"][len(keys["a"])-16:])
		} else {
			t.Log("container a: same host key after a restart")
		}
	})
}

// hostKey polls sshd on a 127.0.0.1 port with ssh-keyscan for up to 20 s
// and returns its ed25519 host key.
func hostKey(t *testing.T, ctr string, port int) string {
	t.Helper()
	var scan []byte
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(100 * time.Millisecond) {
		scan, _ = exec.Command("ssh-keyscan", "-t", "ed25519", "-p", fmt.Sprint(port), "127.0.0.1").Output()
		if len(scan) > 0 {
			break
		}
	}
	if !bytes.Contains(scan, []byte("ssh-ed25519 ")) {
		logs, _ := exec.Command("podman", "logs", ctr).CombinedOutput()
		t.Fatalf("container %s: ssh-keyscan found no host key\n%s", ctr, logs)
	}
	return string(bytes.Fields(scan)[2])
}

// privateKey is a PEM or OpenSSH private key block with its first line of
// base64 (binaries such as ssh-keygen contain the armour lines alone).
var privateKey = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?\n(?:[A-Za-z-]+: .*\r?\n)*\r?\n?[A-Za-z0-9+/=]{40,}`)

// secretsIn scans a layer for private keys: PEM and OpenSSH private key
// blocks in any file, and ssh host key files.
func secretsIn(t *testing.T, blob string, l v1.Descriptor) []string {
	t.Helper()
	rc, err := rootfs.OpenLayer(blob, l.MediaType)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var hits []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return hits
		}
		if err != nil {
			t.Fatal(err)
		}
		base := path.Base(hdr.Name)
		if strings.HasPrefix(base, "ssh_host_") && !strings.HasPrefix(base, rootfs.WhiteoutPrefix) {
			hits = append(hits, "ssh host key file "+hdr.Name)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if m := privateKey.Find(data); m != nil {
			hits = append(hits, fmt.Sprintf("%q… in %s", m[:min(len(m), 40)], hdr.Name))
		}
	}
}
