package aptsources

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const deb822Fixture = `Types: deb deb-src
# a comment inside the stanza
URIs: http://mirror.example.invalid/debian https://other.example.invalid/debian/
Suites: bookworm bookworm-updates
Components: main contrib
Architectures: amd64 arm64
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.invalid/debian-security
Suites: bookworm-security
Components: main
Check-Valid-Until: no

Types: deb
Enabled: no
URIs: http://disabled.example.invalid/debian
Suites: sid
Components: main

Types: deb-src
URIs: http://src.example.invalid/debian
Suites: sid
Components: main

Types: deb
URIs: cdrom:/media/cdrom/ tor+http://onion.example.invalid/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://inline.example.invalid/repo
Suites: stable
Components: main
Signed-By:
 -----BEGIN PGP PUBLIC KEY BLOCK-----
 .
 mDMEZQAAABYJKwYBBAHaRw8BAQdA
 -----END PGP PUBLIC KEY BLOCK-----
`

func TestParseDeb822Sources(t *testing.T) {
	srcs, warns := ParseDeb822Sources("debian.sources", []byte(deb822Fixture))
	want := []Source{
		{URI: "http://mirror.example.invalid/debian", Suites: []string{"bookworm", "bookworm-updates"}, Components: []string{"main", "contrib"},
			Architectures: []string{"amd64", "arm64"}, SignedBy: "/usr/share/keyrings/debian-archive-keyring.gpg", Origin: "debian.sources:1"},
		{URI: "https://other.example.invalid/debian", Suites: []string{"bookworm", "bookworm-updates"}, Components: []string{"main", "contrib"},
			Architectures: []string{"amd64", "arm64"}, SignedBy: "/usr/share/keyrings/debian-archive-keyring.gpg", Origin: "debian.sources:1"},
		{URI: "http://mirror.example.invalid/debian-security", Suites: []string{"bookworm-security"}, Components: []string{"main"},
			NoValidUntil: true, Origin: "debian.sources:9"},
		{URI: "http://inline.example.invalid/repo", Suites: []string{"stable"}, Components: []string{"main"}, Origin: "debian.sources:31",
			SignedBy: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZQAAABYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----"},
	}
	if !reflect.DeepEqual(srcs, want) {
		t.Errorf("got\n%#v\nwant\n%#v", srcs, want)
	}
	// cdrom: and tor+http: are skipped with a warning each.
	if len(warns) != 2 || !strings.Contains(warns[0].String(), "debian.sources:26") || !strings.Contains(warns[0].Msg, `scheme "cdrom"`) ||
		!strings.Contains(warns[1].Msg, `scheme "tor+http"`) {
		t.Errorf("warnings %q", warns)
	}
}

const oneLineFixture = `# main archive
deb http://mirror.example.invalid/debian bookworm main contrib non-free-firmware
deb-src http://mirror.example.invalid/debian bookworm main
deb [arch=amd64,i386 signed-by=/etc/apt/keyrings/x.gpg] https://x.example.invalid/apt/ stable main # trailing comment
deb [ check-valid-until=no trusted=yes ] http://sec.example.invalid/debian-security bookworm-security main
  # indented comment
deb http://flat.example.invalid/repo ./
deb s3://bucket/debian bookworm main
deb http://nocomp.example.invalid/debian bookworm
rpm http://what.example.invalid/ x y
`

func TestParseOneLineSources(t *testing.T) {
	srcs, warns := ParseOneLineSources("sources.list", []byte(oneLineFixture))
	want := []Source{
		{URI: "http://mirror.example.invalid/debian", Suites: []string{"bookworm"}, Components: []string{"main", "contrib", "non-free-firmware"}, Origin: "sources.list:2"},
		{URI: "https://x.example.invalid/apt", Suites: []string{"stable"}, Components: []string{"main"}, Architectures: []string{"amd64", "i386"},
			SignedBy: "/etc/apt/keyrings/x.gpg", Origin: "sources.list:4"},
		{URI: "http://sec.example.invalid/debian-security", Suites: []string{"bookworm-security"}, Components: []string{"main"}, NoValidUntil: true, Origin: "sources.list:5"},
	}
	if !reflect.DeepEqual(srcs, want) {
		t.Errorf("got\n%#v\nwant\n%#v", srcs, want)
	}
	var msgs []string
	for _, w := range warns {
		msgs = append(msgs, w.String())
	}
	all := strings.Join(msgs, "\n")
	for _, w := range []string{"sources.list:5: trusted=yes is ignored", "sources.list:7: flat repository", `sources.list:8: URI "s3://bucket/debian": scheme "s3"`,
		"sources.list:9: no components", `sources.list:10: unknown type "rpm"`} {
		if !strings.Contains(all, w) {
			t.Errorf("no warning %q in\n%s", w, all)
		}
	}
	if len(warns) != 5 {
		t.Errorf("%d warnings:\n%s", len(warns), all)
	}
}

func TestLoadSourcesRoot(t *testing.T) {
	root := t.TempDir()
	w := func(name, text string) {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w("etc/apt/sources.list", "deb http://one.example.invalid/debian bookworm main\n")
	w("etc/apt/sources.list.d/b.sources", "Types: deb\nURIs: http://three.example.invalid/d\nSuites: s\nComponents: main\n")
	w("etc/apt/sources.list.d/a.list", "deb http://two.example.invalid/d s main\n")
	w("etc/apt/sources.list.d/c.sources.disabled", "Types: deb\nURIs: http://no.example.invalid/d\nSuites: s\nComponents: main\n")
	w("etc/apt/sources.list.d/bad~name.list", "deb http://no.example.invalid/d s main\n")
	srcs, warns, err := LoadSources(root)
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, s := range srcs {
		uris = append(uris, s.URI)
	}
	if got := strings.Join(uris, " "); got != "http://one.example.invalid/debian http://two.example.invalid/d http://three.example.invalid/d" || len(warns) != 0 {
		t.Errorf("sources %s, warnings %v", got, warns)
	}
	if srcs[2].Origin != filepath.Join(root, "etc/apt/sources.list.d/b.sources")+":1" {
		t.Errorf("origin %s", srcs[2].Origin)
	}
	// No apt config at all is no sources, no error.
	srcs, _, err = LoadSources(t.TempDir())
	if err != nil || len(srcs) != 0 {
		t.Errorf("empty root: %v %v", srcs, err)
	}
}

func TestOverride(t *testing.T) {
	host := []Source{
		{URI: "http://m.example.invalid/debian", Suites: []string{"bookworm", "bookworm-updates"}, Components: []string{"main"}, SignedBy: "/k.gpg"},
		{URI: "http://m.example.invalid/debian-security", Suites: []string{"bookworm-security"}, Components: []string{"main"}},
	}
	if !(Override{}).IsZero() {
		t.Error("zero override not IsZero")
	}
	got, err := Override{Suites: []string{"bookworm", "bookworm-security"}, Components: []string{"main", "contrib"}, Architectures: []string{"arm64"}}.Apply(host)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || strings.Join(got[0].Suites, ",") != "bookworm" || strings.Join(got[1].Components, ",") != "main,contrib" ||
		strings.Join(got[1].Archs(), ",") != "arm64" || got[0].SignedBy != "/k.gpg" || strings.Join(host[0].Suites, ",") != "bookworm,bookworm-updates" {
		t.Errorf("narrowed: %+v (host %+v)", got, host)
	}
	if _, err := (Override{Suites: []string{"sid"}}).Apply(host); err == nil || !strings.Contains(err.Error(), `"sid"`) {
		t.Errorf("unknown suite: %v", err)
	}
	got, err = Override{Archives: []string{"http://o.example.invalid/debian/"}, Suites: []string{"trixie"}, SignedBy: "/o.gpg"}.Apply(host)
	if err != nil {
		t.Fatal(err)
	}
	want := []Source{{URI: "http://o.example.invalid/debian", Suites: []string{"trixie"}, Components: []string{"main"}, SignedBy: "/o.gpg", Origin: "override"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("archive override: %#v", got)
	}
	if _, err := (Override{Archives: []string{"http://o.example.invalid/debian"}}).Apply(host); err == nil {
		t.Error("archive without suite accepted")
	}
	if _, err := (Override{Archives: []string{"ftp://o.example.invalid/debian"}, Suites: []string{"x"}}).Apply(host); err == nil {
		t.Error("ftp archive accepted")
	}
}
