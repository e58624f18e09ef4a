package archive

import (
	"strings"
	"testing"
)

func TestReadPackagesEdgeCases(t *testing.T) {
	long := strings.Repeat("x", 300<<10) // longer than the scanner's buffer
	text := "package: lower\nVERSION: 1.0\r\nDepends: a,\n b (>= 1),\n\tc\nDescription: d\n " + long + "\n .\n more\nProvides: " + long[:10] + "\n" +
		"\n\n\n" + // several blank lines between stanzas
		"Package: last\nVersion: 2\nSize: 12\nInstalled-Size: 3\nSHA256: " + strings.Repeat("AB", 32) // no final newline
	pkgs, err := ReadPackages(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != 2 {
		t.Fatalf("%d packages", len(pkgs))
	}
	p := pkgs[0]
	if p.Name != "lower" || p.Version != "1.0" || p.Depends != "a, b (>= 1), c" || p.Provides != long[:10] {
		t.Errorf("first: %q %q %q %q", p.Name, p.Version, p.Depends, p.Provides)
	}
	q := pkgs[1]
	if q.Name != "last" || q.Size != 12 || q.InstalledSize != 3 || q.SHA256 != strings.Repeat("ab", 32) {
		t.Errorf("second: %+v", q)
	}

	for _, c := range []struct{ text, want string }{
		{"Package: a\nVersion: 1\n\nVersion: 2\n", "line 4: no Package field"},
		{"Package: a\n\n", "line 1: a: no Version field"},
		{"Package: a\nVersion: 1\nSize: 12k\n", "a 1: bad Size"},
		{"Package: a\nVersion: 1\nInstalled-Size: -1\n", "bad Installed-Size"},
		{"Package: a\nVersion: 1\nSHA256: 1234\n", "bad SHA256"},
		{" continuation\n", "line 1: continuation line outside a field"},
		{"Package: a\nno colon here\n", "line 2: not a field"},
	} {
		_, err := ReadPackages(strings.NewReader(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
}

func TestParseRelease(t *testing.T) {
	rel, err := ParseRelease([]byte("Origin: Debian\nSuite: oldstable\nCodename: bookworm\nDate: Sat, 1 Jul 2023 10:16:37 UTC\n" +
		"Valid-Until: Sat, 08 Jul 2023 10:16:37 +0000\nAcquire-By-Hash: yes\nArchitectures: all amd64\nComponents: main contrib\n" +
		"MD5Sum:\n 0123 1 ignored\nSHA256:\n " + strings.Repeat("A", 64) + " 42 main/binary-amd64/Packages.xz\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rel.Codename != "bookworm" || rel.Date.Day() != 1 || rel.ValidUntil.Day() != 8 || !rel.AcquireByHash ||
		rel.Files["main/binary-amd64/Packages.xz"] != (FileHash{42, strings.Repeat("a", 64)}) || len(rel.Files) != 1 {
		t.Errorf("%+v", rel)
	}
	for _, c := range []struct{ text, want string }{
		{"Codename: x\nDate: yesterday\n", `line 2: Date: bad date "yesterday"`},
		{"Codename: x\nSHA256:\n abc 1 f\n", "line 3: bad SHA256 entry"},
		{"Codename: x\nSHA256:\n " + strings.Repeat("a", 64) + " big f\n", "bad size"},
		{"Codename: x\n\nCodename: y\n", "2 paragraphs"},
	} {
		_, err := ParseRelease([]byte(c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.text, err, c.want)
		}
	}
}
