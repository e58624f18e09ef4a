package dpkg

import (
	"strings"
	"testing"
)

// checkCases runs check on each valid value (no error) and each invalid
// one (an error that quotes the value and contains the wanted words).
func checkCases(t *testing.T, what string, check func(string) error, valid []string, invalid map[string]string) {
	t.Helper()
	for _, v := range valid {
		if err := check(v); err != nil {
			t.Errorf("%s %q refused: %v", what, v, err)
		}
	}
	for v, want := range invalid {
		err := check(v)
		if err == nil {
			t.Errorf("%s %q accepted", what, v)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s %q: error %q does not say %q", what, v, err, want)
		}
	}
}

func TestCheckPackageName(t *testing.T) {
	checkCases(t, "package name", CheckPackageName,
		[]string{"libc6", "g++", "libstdc++6", "0ad", "x11-common", "python3.11", "a0"},
		map[string]string{
			"":          "at least two characters",
			"a":         "at least two characters",
			".":         "at least two characters",
			"..":        "must start with a lower-case letter or a digit",
			"-foo":      "must start",
			"+foo":      "must start",
			"Foo":       "must start",
			"fOo":       `'O' not allowed`,
			"foo$bar":   `'$' not allowed`,
			"foo_bar":   `'_' not allowed`,
			"foo/bar":   `'/' not allowed`,
			"foo:amd64": `':' not allowed`,
			"foo bar":   `' ' not allowed`,
			"foo\nbar":  `'\n' not allowed`,
		})
}

func TestCheckVersion(t *testing.T) {
	checkCases(t, "version", CheckVersion,
		[]string{"1.0", "1:2.36-9+deb12u4", "2.36-9+deb12u4", "1.2.3~rc1-1~bpo12+1", "0", "1:1:1", "1.0-1-2",
			"3.0.11-1~deb12u2", "7.9p1-10+deb12u1", "2147483647:1", "1.0+dfsg-1.1", "1.0RC1"},
		map[string]string{
			"":                       "empty",
			"1.0_1":                  `'_' not allowed in the upstream version`,
			"1.0-1_2":                `'_' not allowed in the revision`,
			"1.0/../../x":            `'/' not allowed`,
			"1.0 1":                  "whitespace",
			"1.0\n 1":                "whitespace",
			"1.0\t":                  "whitespace",
			":1.0":                   "the epoch is empty",
			"a:1.0":                  "the epoch is not a number",
			"-1:1.0":                 "the epoch is not a number",
			"+1:1.0":                 "the epoch is not a number",
			"2147483648:1.0":         "the epoch is too big",
			"1:":                     "nothing after the epoch's colon",
			"1.0-":                   "the revision is empty",
			"-1":                     "the upstream version is empty",
			"abc":                    "does not start with a digit",
			"1:abc-1":                "does not start with a digit",
			"1:1.0-1:2":              `':' not allowed in the revision`,
			"1.0-1:2":                "the epoch is not a number",
			"1.0-1-a$":               `'$' not allowed in the revision`,
			"1.0\x00":                "control character",
			"99999999999999999999:1": "the epoch is too big",
		})
}

func TestCheckArchitecture(t *testing.T) {
	checkCases(t, "architecture", CheckArchitecture,
		[]string{"amd64", "all", "arm64", "ppc64el", "kfreebsd-amd64", "hurd-i386", "x32"},
		map[string]string{
			"":           "empty",
			"..":         "must start with a lower-case letter or a digit",
			"AMD64":      "must start",
			"amd64/x":    `'/' not allowed`,
			"amd_64":     `'_' not allowed`,
			"amd64 i386": `' ' not allowed`,
			"any":        "wildcard",
			"linux-any":  "wildcard",
			"any-amd64":  "wildcard",
			"source":     "not a binary architecture",
		})
}

func TestCheckMultiArchAndBoolean(t *testing.T) {
	for _, v := range []string{"", "no", "same", "allowed", "foreign"} {
		if err := CheckMultiArch(v, "amd64"); err != nil {
			t.Errorf("Multi-Arch %q refused: %v", v, err)
		}
	}
	for _, v := range []string{"Same", "yes", "same ", "sometimes"} {
		if err := CheckMultiArch(v, "amd64"); err == nil {
			t.Errorf("Multi-Arch %q accepted", v)
		}
	}
	if err := CheckMultiArch("same", "all"); err == nil || !strings.Contains(err.Error(), `"all"`) {
		t.Errorf("Multi-Arch: same with Architecture: all: %v", err)
	}
	if err := CheckMultiArch("foreign", "all"); err != nil {
		t.Error(err)
	}
	checkCases(t, "boolean", CheckBoolean, []string{"", "yes", "no"},
		map[string]string{"Yes": "must be yes or no", "1": "must be yes or no", "yes no": "must be yes or no"})
}

func TestCheckSource(t *testing.T) {
	checkCases(t, "source", CheckSource,
		[]string{"glibc", "glibc (2.36-9+deb12u4)", "openssl (3.0.11-1~deb12u2)"},
		map[string]string{
			"../x":              "invalid package name",
			"Glibc":             "invalid package name",
			"glibc 2.36":        `"(VERSION)"`,
			"glibc (2.36":       `"(VERSION)"`,
			"glibc (2_36)":      `'_' not allowed`,
			"glibc (2.36) junk": `"(VERSION)"`,
		})
}

func TestCheckControl(t *testing.T) {
	base := "Package: foo\nVersion: 1.0-1\nArchitecture: amd64\n"
	good := []string{
		base,
		base + "Multi-Arch: same\nEssential: yes\nSource: foo-src (1.0-1)\n",
		base + "Depends: libc6 (>= 2.36), libssl3 (>= 3.0.0) | libssl1.1,\n libfoo:any\nPre-Depends: dpkg (>= 1.17.14)\n",
		base + "Provides: bar (= 1.0), baz\nConflicts: qux (<< 2)\nBreaks: old (<< 1.0~)\nReplaces: old\n",
		base + "Depends: v\nProvides: x\n",
		base + "Recommends: aa | bb\nSuggests: cc\nEnhances: dd\n",
	}
	for _, c := range good {
		p, err := ParseParagraph([]byte(c))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckControl(p); err != nil {
			t.Errorf("%q refused: %v", c, err)
		}
	}
	bad := map[string]string{
		"Package: foo\nVersion: 1.0\n":                                    "missing Architecture field",
		"Version: 1.0\nArchitecture: all\n":                               "missing Package field",
		"Package: foo\nArchitecture: all\n":                               "missing Version field",
		strings.Replace(base, "foo", "..", 1):                             "field Package: invalid package name",
		strings.Replace(base, "1.0-1", "1.0_1", 1):                        "field Version: invalid version",
		strings.Replace(base, "amd64", "..", 1):                           "field Architecture: invalid architecture",
		base + "Multi-Arch: Same\n":                                       "field Multi-Arch",
		"Package: foo\nVersion: 1\nArchitecture: all\nMulti-Arch: same\n": "field Multi-Arch",
		base + "Essential: YES\n":                                         "field Essential",
		base + "Protected: true\n":                                        "field Protected",
		base + "Source: Foo\n":                                            "field Source",
		base + "Depends: libc6 (>= 2.36\n":                                "does not parse",
		base + "Depends: libc6 (>= 2_36)\n":                               "field Depends: reference to libc6: invalid version",
		base + "Depends: Libc6\n":                                         "field Depends: reference to \"Libc6\"",
		base + "Depends: V\n":                                             "field Depends: reference to \"V\"",
		base + "Depends: ${shlibs:Depends}\n":                             "substitution variable",
		base + "Depends: foo [amd64]\n":                                   "source packages only",
		base + "Depends: foo <!nocheck>\n":                                "source packages only",
		base + "Conflicts: a | b\n":                                       "alternatives",
		base + "Provides: a | b\n":                                        "alternatives",
		base + "Depends:\n":                                               "field Depends: empty",
	}
	for c, want := range bad {
		p, err := ParseParagraph([]byte(c))
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		err = CheckControl(p)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", c, err, want)
		}
	}
}
