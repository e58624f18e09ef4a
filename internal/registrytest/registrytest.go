// Package registrytest runs real OCI registries for tests: the
// Distribution registry (Debian's docker-registry) on a free 127.0.0.1
// port with its storage in a temporary directory, which a test may stop
// and start again (a registry going away mid-run), and a proxy that
// records the requests a client makes.
package registrytest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Registry is a running registry.
type Registry struct {
	// Addr is its host:port.
	Addr   string
	config string
	cmd    *exec.Cmd
}

// Start starts a registry, stopped when the test ends; the test is
// skipped when docker-registry is not installed.
func Start(t testing.TB) *Registry {
	t.Helper()
	if _, err := exec.LookPath("docker-registry"); err != nil {
		t.Skip("docker-registry is not installed (scripts/install-deps.sh installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	r := &Registry{Addr: addr, config: filepath.Join(dir, "config.yml")}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: deb2fs-test
`, filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Restart(t)
	t.Cleanup(r.Stop)
	return r
}

// Restart starts the registry again after Stop, over the same storage and
// port, and waits until it answers.
func (r *Registry) Restart(t testing.TB) {
	t.Helper()
	if r.cmd != nil {
		return
	}
	r.cmd = exec.Command("docker-registry", "serve", r.config)
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, io.Discard
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var err error
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(50 * time.Millisecond) {
		var resp *http.Response
		if resp, err = http.Get("http://" + r.Addr + "/v2/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("docker-registry did not answer on %s: %v", r.Addr, err)
}

// Stop stops the registry (its storage stays).
func (r *Registry) Stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		r.cmd.Wait()
	}
	r.cmd = nil
}

// CountingProxy forwards to a registry and records every request as
// "METHOD PATH".
type CountingProxy struct {
	mu   sync.Mutex
	reqs []string
	// Addr is the proxy's host:port.
	Addr string
}

// NewCountingProxy starts a proxy to the registry at addr, stopped when
// the test ends.
func NewCountingProxy(t testing.TB, addr string) *CountingProxy {
	t.Helper()
	u, _ := url.Parse("http://" + addr)
	rp := httputil.NewSingleHostReverseProxy(u)
	c := &CountingProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.reqs = append(c.reqs, r.Method+" "+r.URL.RequestURI())
		c.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c.Addr = strings.TrimPrefix(srv.URL, "http://")
	return c
}

// Requests returns and forgets the requests seen so far.
func (c *CountingProxy) Requests() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.reqs
	c.reqs = nil
	return out
}

// GarbageCollect stops the registry, runs its garbage collector over the
// storage (deleting unreferenced blobs) and starts it again.
func (r *Registry) GarbageCollect(t testing.TB) {
	t.Helper()
	r.Stop()
	if out, err := exec.Command("docker-registry", "garbage-collect", r.config).CombinedOutput(); err != nil {
		t.Fatalf("garbage-collect: %v\n%s", err, out)
	}
	r.Restart(t)
}
