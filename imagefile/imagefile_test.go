package imagefile

import (
	"archive/tar"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/compose/configure"
)

// buildContext makes a build context with a site/ tree and returns its path.
func buildContext(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{
		"site/index.html":     "<h1>hello</h1>\n",
		"site/css/site.css":   "h1{}\n",
		"bin/start":           "#!/bin/sh\n",
		"nginx.conf":          "events {}\n",
		"../outside-the-ctxt": "secret\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "bin/start"), 0o755)
	if err := os.Symlink("../outside-the-ctxt", filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	return dir
}

const good = `# a site
name: site
packages: [nginx, "curl=7.88.1-10+deb12u8"]
accounts:
  groups:
    - {name: web, gid: 2000}
  users:
    - name: site
      uid: 1000
      groups: [web]
files:
  - path: /srv/site
    src: site
    owner: site
    mode: 0640
  - path: /usr/local/bin/start
    src: bin/start
  - path: /var/cache/site
    owner: "site:web"
    dir-mode: "0750"
  - path: /etc/site.conf
    target: /srv/site/nginx.conf
environment:
  GREETING: hello
  N: 3
entrypoint: [/usr/local/bin/start]
cmd: [nginx, -g, daemon off;]
work-dir: /srv/site
user: site
ports: [8080, 53/udp]
volumes: [/var/cache/site]
labels: {org.example.team: web}
annotations: {org.opencontainers.image.source: example}
`

func TestParse(t *testing.T) {
	dir := buildContext(t)
	d, err := Parse("image.yaml", dir, []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "site" || !reflect.DeepEqual(d.Packages, []string{"nginx", "curl=7.88.1-10+deb12u8"}) {
		t.Errorf("name %q packages %q", d.Name, d.Packages)
	}
	wantAcc := configure.Accounts{
		Groups: []configure.Group{{Name: "web", GID: 2000}},
		Users:  []configure.User{{Name: "site", UID: 1000, GID: 1000, Home: "/home/site", Shell: "/usr/sbin/nologin", Groups: []string{"web"}}},
	}
	if !reflect.DeepEqual(d.Accounts, wantAcc) {
		t.Errorf("accounts %+v", d.Accounts)
	}
	type f struct {
		path     string
		typ      byte
		mode     int64
		uid, gid int
	}
	var got []f
	for _, e := range d.Files {
		got = append(got, f{e.Path, e.Type, e.Mode, e.UID, e.GID})
	}
	want := []f{
		{"/srv/site", tar.TypeDir, 0o755, 1000, 1000},
		{"/srv/site/css", tar.TypeDir, 0o755, 1000, 1000},
		{"/srv/site/css/site.css", tar.TypeReg, 0o640, 1000, 1000},
		{"/srv/site/index.html", tar.TypeReg, 0o640, 1000, 1000},
		{"/usr/local/bin/start", tar.TypeReg, 0o755, 0, 0},
		{"/var/cache/site", tar.TypeDir, 0o750, 1000, 2000},
		{"/etc/site.conf", tar.TypeSymlink, 0o777, 0, 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files\n got %v\nwant %v", got, want)
	}
	if src := d.Files[3].Source; src != filepath.Join(dir, "site/index.html") {
		t.Errorf("source %s", src)
	}
	wantCfg := compose.Config{
		Env: []string{"GREETING=hello", "N=3"}, Entrypoint: []string{"/usr/local/bin/start"},
		WorkingDir: "/srv/site", User: "site", ExposedPorts: []string{"8080/tcp", "53/udp"},
		Volumes: []string{"/var/cache/site"}, Labels: map[string]string{"org.example.team": "web"},
		Annotations: map[string]string{"org.opencontainers.image.source": "example"},
	}
	if !reflect.DeepEqual(d.Config, wantCfg) {
		t.Errorf("config %+v", d.Config)
	}
	if !reflect.DeepEqual(d.Cmd, []string{"nginx", "-g", "daemon off;"}) {
		t.Errorf("cmd %q", d.Cmd)
	}
}

// Every bad definition is an error naming the file, the line and the key.
func TestParseErrors(t *testing.T) {
	dir := buildContext(t)
	for _, c := range []struct{ name, yaml, want string }{
		{"unknown key", "packages: [nginx]\ncommand: [x]\n", "image.yaml:2:1: command: unknown key"},
		{"unknown nested key", "packages: [nginx]\nfiles:\n  - path: /x\n    sorce: a\n", "image.yaml:4:5: files[0].sorce: unknown key"},
		{"wrong type", "packages: nginx\n", "image.yaml:1:11: packages: got string, want array"},
		{"no packages", "name: x\n", "image.yaml:1:1: missing property 'packages'"},
		{"bad package", "packages: [nginx, Foo]\n", "image.yaml:1:19: packages[1]: "},
		{"package twice", "packages: [nginx, nginx=1.2]\n", "image.yaml:1:19: packages[1]: nginx is listed already"},
		{"missing source", "packages: [nginx]\nfiles:\n  - {path: /srv, src: nothere}\n", "image.yaml:3:23: files[0].src: nothere: no such file in the build context"},
		{"source outside", "packages: [nginx]\nfiles:\n  - {path: /srv, src: ../outside-the-ctxt}\n", "files[0].src: ../outside-the-ctxt: leads out of the build context"},
		{"symlink outside", "packages: [nginx]\nfiles:\n  - {path: /srv, src: escape}\n", "files[0].src: escape: leads out of the build context"},
		{"absolute source", "packages: [nginx]\nfiles:\n  - {path: /srv, src: /etc/passwd}\n", "files[0].src: /etc/passwd: must be relative"},
		{"unknown owner", "packages: [nginx]\nfiles:\n  - {path: /srv, owner: www}\n", "image.yaml:3:25: files[0].owner: owner \"www\": www is no uid"},
		{"bad mode", "packages: [nginx]\nfiles:\n  - {path: /srv/x, src: nginx.conf, mode: rw}\n", "files[0].mode: \"rw\" is not an octal mode"},
		{"path twice", "packages: [nginx]\nfiles:\n  - {path: /srv}\n  - {path: /srv/}\n", "image.yaml:4:5: files[1]: /srv is given already (by files[0])"},
		{"relative path", "packages: [nginx]\nfiles:\n  - {path: srv}\n", "image.yaml:3:12: files[0].path: 'srv' does not match pattern"},
		{"bad port", "packages: [nginx]\nports: [99999]\n", "image.yaml:2:9: ports[0]: port 99999"},
		{"user twice", "packages: [nginx]\naccounts:\n  users:\n    - {name: a, uid: 1}\n    - {name: a, uid: 2}\n", "image.yaml:5:14: accounts.users[1].name: user a is declared twice"},
		{"big id", "packages: [nginx]\naccounts:\n  users:\n    - {name: a, uid: 70000}\n", "image.yaml:4:22: accounts.users[0].uid: maximum"},
		{"missing keyring", "packages: [nginx]\nsources:\n  - {uri: http://127.0.0.1:1/x, suites: [s], components: [main], keyring: keys/none.gpg}\n", "image.yaml:3:75: sources[0].keyring: keys/none.gpg: no such file in the build context"},
		{"source without suites", "packages: [nginx]\nsources:\n  - {uri: http://127.0.0.1:1/x, components: [main], keyring: nginx.conf}\n", "image.yaml:3:5: sources[0]: missing property 'suites'"},
		{"bad source uri", "packages: [nginx]\nsources:\n  - {uri: ftp://x, suites: [s], components: [main], keyring: nginx.conf}\n", "sources[0].uri: 'ftp://x' does not match pattern"},
		{"bad yaml", "packages: [nginx\n", "image.yaml:1:1: did not find expected"},
		{"alias", "packages: &p [nginx]\ncmd: *p\n", "anchors and aliases are not allowed"},
		{"duplicate key", "packages: [nginx]\npackages: [curl]\n", "image.yaml:2:1: "},
		{"empty", "", "image.yaml: empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("image.yaml", dir, []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

// The schema file is what Load checks against, and valid JSON Schema.
func TestSchema(t *testing.T) {
	if err := validate(map[string]any{"packages": []any{"nginx"}}); err != nil {
		t.Fatal(err)
	}
	if err := validate(map[string]any{"packages": []any{"nginx"}, "x": 1.0}); err == nil {
		t.Fatal("an unknown key passed the schema")
	}
}
