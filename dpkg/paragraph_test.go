package dpkg

import (
	"strings"
	"testing"
)

func TestParseParagraphKeepsValuesVerbatim(t *testing.T) {
	in := "Package: foo\nVersion:  1.0-1  \nDescription: short\n long line\n .\n   indented\t\nHomepage: x\n\n"
	p, err := ParseParagraph([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Get("version"); got != "1.0-1" {
		t.Errorf("Version = %q", got)
	}
	if got, want := p.Get("Description"), "short\n long line\n .\n   indented"; got != want {
		t.Errorf("Description = %q, want %q", got, want)
	}
	want := "Package: foo\nVersion: 1.0-1\nDescription: short\n long line\n .\n   indented\nHomepage: x\n"
	if got := string(p.Bytes()); got != want {
		t.Errorf("Bytes() = %q, want %q", got, want)
	}
}

func TestParseParagraphErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"Package foo\n",
		" continuation\nPackage: x\n",
		"Package: a\nPackage: b\n",
		"Package: a\n\nPackage: b\n",
		"Bad Name: x\n",
	} {
		if _, err := ParseParagraph([]byte(in)); err == nil {
			t.Errorf("ParseParagraph(%q): no error", in)
		}
	}
}

func TestUnpackedStatusOrderAndFlags(t *testing.T) {
	ctl, err := ParseParagraph([]byte(strings.Join([]string{
		"Package: libfoo1",
		"Source: foo (1.2-3)",
		"Version: 1.2-3+b1",
		"Architecture: amd64",
		"Maintainer: M <m@example.org>",
		"Installed-Size: 12",
		"Depends: libc6 (>= 2.36)",
		"Pre-depends: dpkg",
		"Section: libs",
		"Priority: optional",
		"Multi-Arch: same",
		"Essential: no",
		"Homepage: h",
		"Description: d",
		" more",
		"Built-Using: x (= 1)",
	}, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := UnpackedStatus(ctl, []Conffile{{"/etc/foo", "abc"}, {"/etc/bar", "newconffile remove-on-upgrade"}})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"Package: libfoo1",
		"Status: install ok unpacked",
		"Priority: optional",
		"Section: libs",
		"Installed-Size: 12",
		"Maintainer: M <m@example.org>",
		"Architecture: amd64",
		"Multi-Arch: same",
		"Source: foo (1.2-3)",
		"Version: 1.2-3+b1",
		"Depends: libc6 (>= 2.36)",
		"Pre-Depends: dpkg",
		"Conffiles:",
		" /etc/foo abc",
		" /etc/bar newconffile remove-on-upgrade",
		"Description: d",
		" more",
		"Homepage: h",
		"Built-Using: x (= 1)",
	}, "\n") + "\n"
	if got := string(st.Bytes()); got != want {
		t.Errorf("status stanza:\n%s\nwant:\n%s", got, want)
	}
	if _, err := UnpackedStatus(Paragraph{Fields: []Field{{"Package", "x"}, {"Version", "1"}, {"Status", "y"}}}, nil); err == nil {
		t.Error("a Status field in control was accepted")
	}
}

func TestInfoName(t *testing.T) {
	if got := InfoName("libc6", "amd64", "same"); got != "libc6:amd64" {
		t.Error(got)
	}
	if got := InfoName("bash", "amd64", "foreign"); got != "bash" {
		t.Error(got)
	}
}
