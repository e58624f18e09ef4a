package compose

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
)

// serviceImage composes pkgs from the host's archive into a fresh layout
// and pulls it into podman, returning the image id.
func serviceImage(t *testing.T, pkgs ...string) string {
	t.Helper()
	s := testStore(t)
	req := resolve.Request{Install: pkgs}
	es := hostSet(t, s, req)
	out := lowerTempDir(t)
	tagName := "e2e-" + strings.Join(pkgs, "-")
	img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s,
		Output: output.Layout{Dir: out, Tag: tagName}, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d packages, image %s: %s", strings.Join(pkgs, "+"), len(es), img.Manifest.Digest, img.Timings)
	id := pull(t, out, tagName)
	if got := podmanRun(t, id, "dpkg", "--audit"); got != "" {
		t.Errorf("dpkg --audit printed:\n%s", got)
	}
	return id
}

// startService runs cmd detached in a new container of id, publishing
// the container's port to a free 127.0.0.1 port, and returns the
// container and the host port.
func startService(t *testing.T, id string, port int, cmd string) (string, int) {
	t.Helper()
	hostPort := freePort(t)
	args := append([]string{"run", "-d"}, podmanArgs...)
	args = append(args, "-p", fmt.Sprintf("127.0.0.1:%d:%d", hostPort, port), id, "sh", "-c", cmd)
	ctr := strings.TrimSpace(podman(t, args...))
	t.Cleanup(func() { exec.Command("podman", "rm", "-f", ctr).Run() })
	return ctr, hostPort
}

// poll calls try every 200 ms for up to 60 s until it succeeds and
// fails the test with the container's logs and try's last error if it
// never does.
func poll(t *testing.T, ctr string, try func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for time.Since(start) < 60*time.Second {
		if err = try(); err == nil {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	logs, _ := exec.Command("podman", "logs", ctr).CombinedOutput()
	t.Fatalf("container %s: %v\n%s", ctr, err, logs)
	return 0
}

// Two services that needed the base to keep /run/lock (apache2's
// apache2ctl makes its lock directory under /var/lock -> /run/lock) and a
// preinst ordered after its Pre-Depends (mariadb-server's adduser call
// needs libpam-runtime's PAM configuration): each composes from the
// host's archive, configures cleanly and serves in podman.
func TestE2EServices(t *testing.T) {
	needRoot(t)
	needPodman(t)
	t.Run("apache2", func(t *testing.T) {
		id := serviceImage(t, "apache2")
		if got := strings.TrimSpace(podmanRun(t, id, "stat", "-c", "%a %U", "/run/lock", "/var/lock/")); got != "1777 root\n1777 root" {
			t.Errorf("/run/lock, /var/lock/: %q, want 1777 root (as base-files makes it)", got)
		}
		ctr, port := startService(t, id, 80, "exec apache2ctl -D FOREGROUND")
		took := poll(t, ctr, func() error {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || !strings.Contains(string(body), "Apache2 Debian Default Page") {
				return fmt.Errorf("apache2 answered %d: %.200s", resp.StatusCode, body)
			}
			return nil
		})
		t.Logf("apache2: HTTP 200 with Debian's default page after %s", took.Round(time.Millisecond))
	})
	t.Run("mariadb-server", func(t *testing.T) {
		id := serviceImage(t, "mariadb-server")
		ctr, _ := startService(t, id, 3306, "mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld && exec mariadbd --user=mysql")
		took := poll(t, ctr, func() error {
			out, err := exec.Command("podman", "exec", ctr, "mariadb", "--batch", "--skip-column-names", "-e", "select 1").CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "1" {
				return fmt.Errorf("mariadb -e 'select 1': %v: %s", err, out)
			}
			return nil
		})
		t.Logf("mariadb-server: select 1 answered 1 after %s", took.Round(time.Millisecond))
	})
}
