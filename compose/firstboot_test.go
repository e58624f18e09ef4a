package compose

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/compose/rootfs/rootfstest"
	"github.com/deb2fs/deb2fs/firstboot"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
)

// ssl-cert's snakeoil certificate and key are not in the image; each
// container makes its own at first start, for its own host name.
func TestFirstbootSnakeoil(t *testing.T) {
	needRoot(t)
	needPodman(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"ssl-cert"}}
	es := hostSet(t, s, req)
	out := lowerTempDir(t)
	img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s,
		Output: output.Layout{Dir: out, Tag: "snakeoil"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range img.Layers {
		for _, hit := range secretsIn(t, blobPath(out, l.Digest), l) {
			t.Errorf("layer %s: %s", l.Digest, hit)
		}
	}
	id := pull(t, out, "snakeoil")
	cn := func(host string) string {
		return strings.TrimSpace(podman(t, append(append([]string{"run", "--rm", "--hostname", host}, podmanArgs...), id,
			"sh", "-c", "openssl x509 -noout -subject -in /etc/ssl/certs/ssl-cert-snakeoil.pem && ls -l /etc/ssl/private/ssl-cert-snakeoil.key >/dev/null")...))
	}
	a, b := cn("alpha"), cn("beta")
	if !strings.Contains(a, "alpha") || !strings.Contains(b, "beta") {
		t.Errorf("snakeoil subjects: %q, %q; want each container's host name", a, b)
	}
	t.Logf("%s / %s", a, b)
}

// An image with systemd carries the firstboot unit, enabled by a link in
// sysinit.target.wants, in its configure layer; the differential check
// finds nothing the hooks do not handle (machine-id; no ssh host key is
// made at all, firstboot.Prepare's placeholders see to that).
func TestFirstbootSystemdUnit(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"systemd-sysv", "openssh-server"}}
	out := lowerTempDir(t)
	img, err := Compose(context.Background(), Options{Packages: hostSet(t, s, req), Request: req, Store: s,
		Output: output.Layout{Dir: out, Tag: "systemd"}, CheckInstanceState: true})
	if err != nil {
		t.Fatal(err)
	}
	hooks := map[string]bool{}
	for _, d := range img.InstanceState.Handled {
		hooks[d.Hook] = true
	}
	if !hooks["machine-id"] || len(img.InstanceState.Unknown) != 0 {
		t.Errorf("instance state: %+v", img.InstanceState)
	}
	l := img.Layers[len(img.Layers)-1]
	data, err := os.ReadFile(blobPath(out, l.Digest))
	if err != nil {
		t.Fatal(err)
	}
	entries := strings.Join(rootfstest.LayerEntries(t, data), "\n")
	for _, want := range []string{
		"0 " + strings.TrimPrefix(firstboot.UnitPath, "/"),
		"2 " + strings.TrimPrefix(firstboot.WantsPath, "/") + " -> " + firstboot.UnitPath,
	} {
		if !strings.Contains(entries, want) {
			t.Errorf("configure layer lacks %q", want)
		}
	}

	// Booted without the entrypoint, systemd runs the unit before sshd.
	needPodman(t)
	id := pull(t, out, "systemd")
	ctr := strings.TrimSpace(podman(t, append(append([]string{"run", "-d", "--systemd=always", "--entrypoint", "/sbin/init"}, podmanArgs...), id)...))
	defer exec.Command("podman", "rm", "-f", ctr).Run()
	var state string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		o, _ := exec.Command("podman", "exec", ctr, "systemctl", "is-active", "deb2fs-firstboot", "ssh").CombinedOutput()
		if state = strings.Join(strings.Fields(string(o)), " "); state == "active active" {
			break
		}
	}
	if state != "active active" {
		t.Fatalf("deb2fs-firstboot and ssh: %q", state)
	}
	got := podman(t, "exec", ctr, "sh", "-c", "test -s /etc/ssh/ssh_host_ed25519_key && test -e "+firstboot.StampPath+" && echo ok")
	if strings.TrimSpace(got) != "ok" {
		t.Errorf("after boot: %q", got)
	}
}
