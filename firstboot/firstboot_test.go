package firstboot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func hookNames(hs []Hook) string {
	var names []string
	for _, h := range hs {
		names = append(names, h.Name)
	}
	return strings.Join(names, ",")
}

func TestHooks(t *testing.T) {
	for _, c := range []struct {
		pkgs []string
		want string
	}{
		{nil, "machine-id"},
		{[]string{"nginx", "openssh-server"}, "machine-id,openssh-server"},
		// machine-id runs before dbus, which copies it.
		{[]string{"systemd", "dbus", "openssh-server", "ssl-cert"}, "machine-id,dbus,ssl-cert,openssh-server"},
		{[]string{"postgresql", "postgresql-15", "ssl-cert"}, "machine-id,ssl-cert,postgresql"},
		{[]string{"dbus-daemon"}, "machine-id,dbus"},
		{[]string{"bind9", "munge", "dropbear", "nsd"}, "machine-id,bind9,dropbear,munge,nsd"},
		{[]string{"dropbear-run"}, "machine-id,dropbear"},
		{[]string{"xrdp", "ssl-cert", "rabbitmq-server", "ejabberd", "courier-imap"}, "machine-id,ssl-cert,courier-imap,ejabberd,rabbitmq-server,xrdp"},
		{[]string{"bind9-utils", "openssh-client", "dropbear-bin"}, "machine-id"},
	} {
		if got := hookNames(Hooks(c.pkgs)); got != c.want {
			t.Errorf("Hooks(%v) = %s, want %s", c.pkgs, got, c.want)
		}
	}
}

// Every hook of the registry is well formed: a unique name, patterns that
// parse and stay relative, a script that sh accepts.
func TestRegistry(t *testing.T) {
	seen := map[string]bool{}
	for i, h := range hooks {
		if h.Name == "" || seen[h.Name] {
			t.Errorf("hook %d: name %q empty or repeated", i, h.Name)
		}
		seen[h.Name] = true
		if i > 3 && h.Name < hooks[i-1].Name {
			t.Errorf("hook %s after %s: the registry after machine-id, dbus and ssl-cert is sorted by name", h.Name, hooks[i-1].Name)
		}
		if len(h.Remove)+len(h.Empty) == 0 {
			t.Errorf("hook %s removes nothing", h.Name)
		}
		for _, p := range append(append([]string(nil), h.Remove...), h.Empty...) {
			if _, err := filepath.Match(p, "x"); err != nil || strings.HasPrefix(p, "/") || strings.Contains(p, "..") {
				t.Errorf("hook %s: bad pattern %q", h.Name, p)
			}
		}
		for _, p := range h.Placeholders {
			if Covering([]Hook{h}, p) != h.Name {
				t.Errorf("hook %s: placeholder %s is not removed by the hook", h.Name, p)
			}
		}
		f := filepath.Join(t.TempDir(), "s")
		os.WriteFile(f, []byte(h.Script), 0o644)
		if out, err := exec.Command("sh", "-n", f).CombinedOutput(); err != nil || h.Script == "" {
			t.Errorf("hook %s: script: %v\n%s", h.Name, err, out)
		}
	}
	if hooks[0].Name != "machine-id" || hooks[1].Name != "dbus" || hooks[2].Name != "ssl-cert" {
		t.Error("machine-id must run first, then dbus, then ssl-cert")
	}
}

func TestCovering(t *testing.T) {
	hs := Hooks([]string{"openssh-server", "ssl-cert", "dbus", "bind9"})
	for rel, want := range map[string]string{
		"etc/ssh/ssh_host_rsa_key":              "openssh-server",
		"etc/ssh/ssh_host_rsa_key.pub":          "openssh-server",
		"etc/ssh/sshd_config":                   "",
		"etc/machine-id":                        "machine-id",
		"var/lib/dbus/machine-id":               "dbus",
		"etc/bind/rndc.key":                     "bind9",
		"etc/ssl/private/ssl-cert-snakeoil.key": "ssl-cert",
		"etc/ssl/certs/3a9b2c1d.0":              "ssl-cert",
		"etc/ssl/certs/ca-certificates.crt":     "",
		"etc/ssl/private/abcd1234.0":            "",
		"etc/edge-random/seed":                  "",
	} {
		if got := Covering(hs, rel); got != want {
			t.Errorf("Covering(%s) = %q, want %q", rel, got, want)
		}
	}
}

func TestApply(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/ssh/ssh_host_ed25519_key":                 "secret",
		"etc/ssh/ssh_host_ed25519_key.pub":             "public",
		"etc/ssh/sshd_config":                          "keep",
		"etc/machine-id":                               "0123456789abcdef0123456789abcdef\n",
		"var/lib/dbus/machine-id":                      "0123456789abcdef0123456789abcdef\n",
		"etc/ssl/certs/ssl-cert-snakeoil.pem":          "cert",
		"etc/ssl/private/ssl-cert-snakeoil.key":        "key",
		"etc/ssl/certs/ca-certificates-keep.pem":       "ca",
		"etc/dropbear/dropbear_rsa_host_key":           "secret",
		"etc/dropbear/dropbear_ed25519_host_key":       "secret",
		"etc/bind/rndc.key":                            "secret",
		"etc/bind/named.conf":                          "keep",
		"etc/munge/munge.key":                          "secret",
		"var/lib/rabbitmq/.erlang.cookie":              "secret",
		"var/lib/postgresql/15/main/global/pg_control": "system identifier",
		"etc/postgresql/15/main/postgresql.conf":       "generated",
		"etc/postgresql-common/createcluster.conf":     "keep",
	}
	for p, c := range files {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(c), 0o600)
	}
	os.Symlink("ssl-cert-snakeoil.pem", filepath.Join(root, "etc/ssl/certs/abcd1234.0"))
	os.Symlink("ca-certificates-keep.pem", filepath.Join(root, "etc/ssl/certs/ffff0000.0"))
	// xrdp's links to the snakeoil pair dangle until the ssl-cert hook
	// makes the pair again: they stay.
	os.MkdirAll(filepath.Join(root, "etc/xrdp"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/xrdp/rsakeys.ini"), []byte("secret"), 0o600)
	os.Symlink("/etc/ssl/certs/ssl-cert-snakeoil.pem", filepath.Join(root, "etc/xrdp/cert.pem"))
	os.Symlink("/etc/ssl/private/ssl-cert-snakeoil.key", filepath.Join(root, "etc/xrdp/key.pem"))
	hs := Hooks([]string{"openssh-server", "ssl-cert", "dbus", "dropbear", "bind9", "munge", "rabbitmq-server", "postgresql-15", "xrdp"})
	touched, err := Apply(root, hs)
	if err != nil {
		t.Fatal(err)
	}
	gone := []string{"etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub", "var/lib/dbus/machine-id",
		"etc/ssl/certs/ssl-cert-snakeoil.pem", "etc/ssl/private/ssl-cert-snakeoil.key", "etc/ssl/certs/abcd1234.0",
		"etc/dropbear/dropbear_rsa_host_key", "etc/dropbear/dropbear_ed25519_host_key", "etc/bind/rndc.key",
		"etc/munge/munge.key", "var/lib/rabbitmq/.erlang.cookie", "var/lib/postgresql/15/main", "etc/postgresql/15/main", "etc/xrdp/rsakeys.ini"}
	for _, p := range gone {
		if _, err := os.Lstat(filepath.Join(root, p)); err == nil {
			t.Errorf("%s survived", p)
		}
	}
	if len(touched) != len(gone)+1 { // and the emptied machine-id
		t.Errorf("Apply reports %d paths touched, want %d: %v", len(touched), len(gone)+1, touched)
	}
	for _, kept := range []string{"etc/ssh/sshd_config", "etc/ssl/certs/ffff0000.0", "etc/bind/named.conf", "etc/postgresql-common/createcluster.conf", "var/lib/postgresql/15",
		"etc/xrdp/cert.pem", "etc/xrdp/key.pem"} {
		if _, err := os.Lstat(filepath.Join(root, kept)); err != nil {
			t.Errorf("%s removed", kept)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "etc/machine-id")); err != nil || fi.Size() != 0 {
		t.Errorf("machine-id not emptied: %v", err)
	}
	scripts, _ := filepath.Glob(filepath.Join(root, HookDir, "*"))
	if len(scripts) != len(hs) || !strings.HasSuffix(scripts[0], "/010-machine-id") || !strings.HasSuffix(scripts[1], "/020-dbus") {
		t.Errorf("hook scripts: %v", scripts)
	}
	if out, err := exec.Command("sh", "-n", filepath.Join(root, EntrypointPath)).CombinedOutput(); err != nil {
		t.Errorf("entrypoint: %v\n%s", err, out)
	}
	if _, err := os.Lstat(filepath.Join(root, UnitPath)); err == nil {
		t.Error("a systemd unit in a root without systemd")
	}
}

// A root with systemd gets the unit, enabled by a link in
// sysinit.target.wants; the entrypoint it runs then finds the stamp.
func TestApplySystemd(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/lib/systemd"), 0o755)
	os.Symlink("usr/lib", filepath.Join(root, "lib"))
	os.WriteFile(filepath.Join(root, "usr/lib/systemd/systemd"), []byte("ELF"), 0o755)
	if _, err := Apply(root, Hooks([]string{"systemd", "openssh-server"})); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, UnitPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ConditionPathExists=!" + StampPath, "ExecStart=" + EntrypointPath + " true", "Before=sysinit.target", "ssh.service", "WantedBy=sysinit.target"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("unit lacks %q:\n%s", want, data)
		}
	}
	if target, err := os.Readlink(filepath.Join(root, WantsPath)); err != nil || target != UnitPath {
		t.Errorf("wants link: %q, %v", target, err)
	}
}

// Prepare creates the placeholders that are missing and whose directory
// exists, leaves existing files alone, and Apply removes what it made.
func TestPrepare(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/ssh"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/ssh/ssh_host_rsa_key"), []byte("given"), 0o600)
	hs := Hooks([]string{"openssh-server"})
	if err := Prepare(root, hs); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"etc/ssh/ssh_host_ecdsa_key", "etc/ssh/ssh_host_ed25519_key"} {
		fi, err := os.Lstat(filepath.Join(root, p))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("placeholder %s: %v %v", p, fi, err)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(root, "etc/ssh/ssh_host_rsa_key")); string(data) != "given" {
		t.Errorf("Prepare overwrote an existing file: %q", data)
	}
	// Without the directory, nothing is created.
	bare := t.TempDir()
	if err := Prepare(bare, hs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(bare, "etc")); err == nil {
		t.Error("Prepare made a directory")
	}
	if _, err := Apply(root, hs); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(root, "etc/ssh/ssh_host_*")); len(left) != 0 {
		t.Errorf("Apply left %v", left)
	}
}
