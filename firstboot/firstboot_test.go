package firstboot

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHooks(t *testing.T) {
	var names []string
	for _, h := range Hooks([]string{"nginx", "openssh-server"}) {
		names = append(names, h.Name)
	}
	if got := strings.Join(names, ","); got != "machine-id,openssh-server" {
		t.Errorf("hooks for nginx+openssh-server: %s", got)
	}
	if len(Hooks(nil)) != 1 {
		t.Error("machine-id should apply to every image")
	}
}

func TestApply(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/ssh/ssh_host_ed25519_key":           "secret",
		"etc/ssh/ssh_host_ed25519_key.pub":       "public",
		"etc/ssh/sshd_config":                    "keep",
		"etc/machine-id":                         "0123456789abcdef0123456789abcdef\n",
		"var/lib/dbus/machine-id":                "0123456789abcdef0123456789abcdef\n",
		"etc/ssl/certs/ssl-cert-snakeoil.pem":    "cert",
		"etc/ssl/private/ssl-cert-snakeoil.key":  "key",
		"etc/ssl/certs/ca-certificates-keep.pem": "ca",
	}
	for p, c := range files {
		os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(root, p), []byte(c), 0o600)
	}
	os.Symlink("ssl-cert-snakeoil.pem", filepath.Join(root, "etc/ssl/certs/abcd1234.0"))
	os.Symlink("ca-certificates-keep.pem", filepath.Join(root, "etc/ssl/certs/ffff0000.0"))
	if _, err := Apply(root, Hooks([]string{"openssh-server", "ssl-cert"})); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"etc/ssh/ssh_host_ed25519_key", "etc/ssh/ssh_host_ed25519_key.pub", "var/lib/dbus/machine-id",
		"etc/ssl/certs/ssl-cert-snakeoil.pem", "etc/ssl/private/ssl-cert-snakeoil.key", "etc/ssl/certs/abcd1234.0"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); err == nil {
			t.Errorf("%s survived", gone)
		}
	}
	for _, kept := range []string{"etc/ssh/sshd_config", "etc/ssl/certs/ffff0000.0"} {
		if _, err := os.Lstat(filepath.Join(root, kept)); err != nil {
			t.Errorf("%s removed", kept)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "etc/machine-id")); err != nil || fi.Size() != 0 {
		t.Errorf("machine-id not emptied: %v", err)
	}
	hooks, _ := filepath.Glob(filepath.Join(root, HookDir, "*"))
	if len(hooks) != 3 {
		t.Errorf("hook scripts: %v", hooks)
	}
	if out, err := exec.Command("sh", "-n", filepath.Join(root, EntrypointPath)).CombinedOutput(); err != nil {
		t.Errorf("entrypoint: %v\n%s", err, out)
	}
}
