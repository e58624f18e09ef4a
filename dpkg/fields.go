package dpkg

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"pault.ag/go/debian/dependency"
)

// The syntax of the control fields deb2fs uses as names: in file paths
// (var/lib/dpkg/status.d/NAME, info/NAME:ARCH.list), in store tags and in
// annotations. Each rule follows dpkg 1.21 where dpkg refuses, and Debian
// policy where dpkg is laxer than policy in a way that could make two
// packages share a path or a tag. docs/layer-format.md lists them with
// their sources.

// CheckPackageName checks a package name (Package, the name in Source)
// against Debian policy §5.6.1: at least two characters, only lower-case
// letters, digits, '+', '-' and '.', starting with a letter or digit.
// dpkg's pkg_name_is_illegal (lib/dpkg/parsehelp.c) is laxer: it takes one
// character, upper case (which it folds to lower case, so "Foo" and "foo"
// would share status.d/foo) and the deprecated '_' (the store tag's
// separator); policy's rule refuses those too. "." and ".." fail both.
func CheckPackageName(name string) error {
	if len(name) < 2 {
		return fmt.Errorf("invalid package name %q: must be at least two characters long (Debian policy §5.6.1)", name)
	}
	if !isLowerAlnum(name[0]) {
		return fmt.Errorf("invalid package name %q: must start with a lower-case letter or a digit (Debian policy §5.6.1, dpkg pkg_name_is_illegal)", name)
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !isLowerAlnum(c) && c != '+' && c != '-' && c != '.' {
			return fmt.Errorf("invalid package name %q: character %q not allowed (only a-z, 0-9, '+', '-', '.'; Debian policy §5.6.1)", name, c)
		}
	}
	return nil
}

// maxEpoch is the largest epoch dpkg's parseversion takes (INT_MAX).
const maxEpoch = 1<<31 - 1

// CheckVersion checks a version ([EPOCH:]UPSTREAM[-REVISION]) as dpkg's
// parseversion (lib/dpkg/parsehelp.c) does for a .deb's control file,
// where its warnings are errors (pdb_parse_binary has no
// pdb_lax_version_parser): no whitespace; the epoch, if any, a number no
// larger than INT_MAX; the upstream version non-empty, starting with a
// digit, of letters, digits and ".+-~:"; the revision, if any, non-empty,
// of letters, digits and ".+~". So '_' and '/', which would make a store
// tag or a path ambiguous, are refused. One rule is stricter than dpkg:
// the epoch must be digits only (strtol would also take a sign).
func CheckVersion(v string) error {
	bad := func(why string) error { return fmt.Errorf("invalid version %q: %s (dpkg parseversion)", v, why) }
	if v == "" {
		return bad("empty")
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] == 0x7f {
			return bad("contains whitespace or a control character")
		}
	}
	rest := v
	if epoch, after, ok := strings.Cut(v, ":"); ok {
		if epoch == "" {
			return bad("the epoch is empty")
		}
		if !allBytes(epoch, isDigit) {
			return bad("the epoch is not a number")
		}
		if n, err := strconv.ParseUint(epoch, 10, 64); err != nil || n > maxEpoch {
			return bad("the epoch is too big")
		}
		if after == "" {
			return bad("nothing after the epoch's colon")
		}
		rest = after
	}
	upstream, revision := rest, ""
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		upstream, revision = rest[:i], rest[i+1:]
		if revision == "" {
			return bad("the revision is empty")
		}
	}
	if upstream == "" {
		return bad("the upstream version is empty")
	}
	if !isDigit(upstream[0]) {
		return bad("the upstream version does not start with a digit")
	}
	for i := 0; i < len(upstream); i++ {
		if c := upstream[i]; !isAlnum(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return bad(fmt.Sprintf("character %q not allowed in the upstream version", c))
		}
	}
	for i := 0; i < len(revision); i++ {
		if c := revision[i]; !isAlnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return bad(fmt.Sprintf("character %q not allowed in the revision", c))
		}
	}
	return nil
}

// CheckArchitecture checks a binary package's Architecture: dpkg's
// dpkg_arch_name_is_illegal (lib/dpkg/arch.c: non-empty, starting with a
// letter or digit, then letters, digits and '-'), in lower case only, and
// not a name that is no binary architecture: "any", "source", or a
// wildcard such as "linux-any" (dpkg --unpack refuses those as not
// matching the system). dpkg only warns about an illegal name in a .deb;
// deb2fs refuses it, as it names Multi-Arch: same info files.
func CheckArchitecture(arch string) error {
	bad := func(why string) error { return fmt.Errorf("invalid architecture %q: %s", arch, why) }
	if arch == "" {
		return bad("empty")
	}
	if !isLowerAlnum(arch[0]) {
		return bad("must start with a lower-case letter or a digit (dpkg dpkg_arch_name_is_illegal)")
	}
	for i := 1; i < len(arch); i++ {
		if c := arch[i]; !isLowerAlnum(c) && c != '-' {
			return bad(fmt.Sprintf("character %q not allowed (only a-z, 0-9 and '-'; dpkg dpkg_arch_name_is_illegal)", c))
		}
	}
	if arch == "source" {
		return bad("not a binary architecture")
	}
	for _, part := range strings.Split(arch, "-") {
		if part == "any" {
			return bad("a wildcard, not a binary architecture")
		}
	}
	return nil
}

// CheckMultiArch checks a Multi-Arch value: "no", "same", "allowed" or
// "foreign" (multiarchinfos[], lib/dpkg/pkg-namevalue.c), in lower case —
// dpkg matches case-insensitively, but "Same" must not name info files
// differently from "same" — and "same" only with a real architecture
// (pkg_parse_verify, lib/dpkg/parse.c). "" (no field) is valid.
func CheckMultiArch(multiArch, arch string) error {
	switch multiArch {
	case "", "no", "allowed", "foreign":
		return nil
	case "same":
		if arch == "all" {
			return errors.New(`invalid Multi-Arch "same" for Architecture "all" (dpkg pkg_parse_verify)`)
		}
		return nil
	}
	return fmt.Errorf("invalid Multi-Arch %q: must be no, same, allowed or foreign (dpkg multiarchinfos)", multiArch)
}

// CheckBoolean checks a yes/no field (Essential, Protected): "yes", "no"
// or "" (booleaninfos[], lib/dpkg/pkg-namevalue.c), in lower case, as
// UnpackedStatus compares them.
func CheckBoolean(value string) error {
	switch value {
	case "", "yes", "no":
		return nil
	}
	return fmt.Errorf("invalid boolean %q: must be yes or no (dpkg booleaninfos)", value)
}

// CheckSource checks a Source field: a source package name (the rules of
// CheckPackageName, Debian policy §5.6.1), optionally followed by its
// version in parentheses, "name (1.2-3)" (policy §5.6.1, checked by
// CheckVersion). dpkg stores Source unchecked; deb2fs puts its name in
// annotations and image metadata.
func CheckSource(source string) error {
	name, rest, hasVersion := strings.Cut(source, " ")
	if err := CheckPackageName(name); err != nil {
		return err
	}
	if !hasVersion {
		return nil
	}
	v, open := strings.CutPrefix(rest, "(")
	v, closed := strings.CutSuffix(v, ")")
	if !open || !closed {
		return fmt.Errorf("invalid source %q: the version must follow the name as \"(VERSION)\"", source)
	}
	return CheckVersion(v)
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isLowerAlnum(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' }
func isAlnum(c byte) bool      { return isLowerAlnum(c) || 'A' <= c && c <= 'Z' }

func allBytes(s string, f func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !f(s[i]) {
			return false
		}
	}
	return true
}

// relationFields are the relationship fields of a binary package
// (fieldinfos[] in lib/dpkg/parse.c, handled by f_dependency in
// lib/dpkg/fields.c), and whether alternatives ('|') are allowed in each.
var relationFields = []struct {
	name         string
	alternatives bool
}{
	{"Depends", true}, {"Pre-Depends", true}, {"Recommends", true}, {"Suggests", true},
	{"Enhances", true}, {"Breaks", false}, {"Conflicts", false}, {"Provides", false},
	{"Replaces", false},
}

// CheckControl checks the fields of a binary package's control paragraph
// that deb2fs relies on: Package, Version and Architecture are present and
// valid, and so are Multi-Arch, Essential, Protected and Source when
// present; each relationship field parses as dpkg's f_dependency
// (lib/dpkg/fields.c) would parse it. The error names the field.
func CheckControl(p Paragraph) error {
	for _, f := range []string{"Package", "Version", "Architecture"} {
		if _, ok := p.lookup(f); !ok {
			return fmt.Errorf("missing %s field", f)
		}
	}
	arch := p.Get("Architecture")
	checks := []struct {
		field string
		check func(string) error
	}{
		{"Package", CheckPackageName},
		{"Version", CheckVersion},
		{"Architecture", CheckArchitecture},
		{"Multi-Arch", func(v string) error { return CheckMultiArch(v, arch) }},
		{"Essential", CheckBoolean},
		{"Protected", CheckBoolean},
		{"Source", CheckSource},
	}
	for _, c := range checks {
		if _, ok := p.lookup(c.field); !ok {
			continue
		}
		if err := c.check(p.Get(c.field)); err != nil {
			return fmt.Errorf("field %s: %w", c.field, err)
		}
	}
	for _, f := range relationFields {
		if _, ok := p.lookup(f.name); !ok {
			continue
		}
		if err := checkRelations(p.Get(f.name), f.alternatives); err != nil {
			return fmt.Errorf("field %s: %w", f.name, err)
		}
	}
	return nil
}

// checkReferenceName checks a name a relationship refers to. It names no
// path or tag, so it follows dpkg (pkg_name_is_illegal takes a single
// character, and a virtual package may be one) where policy's two-character
// minimum would refuse a field dpkg and apt read fine; every other rule of
// CheckPackageName holds.
func checkReferenceName(name string) error {
	if len(name) == 1 && isLowerAlnum(name[0]) {
		return nil
	}
	return CheckPackageName(name)
}

// checkRelations parses a relationship field with pault.ag/go/debian and
// applies what dpkg's f_dependency adds for a binary package: valid names
// and versions (an ":ARCH" qualifier is left to pault's ParseArch), no alternatives where the field allows none, and none of
// the source-only syntax pault also takes (substitution variables,
// [architecture] lists, <build profiles>).
func checkRelations(value string, alternatives bool) error {
	if strings.TrimSpace(value) == "" {
		return errors.New("empty relationship field")
	}
	deps, err := dependency.Parse(value)
	if err != nil {
		return fmt.Errorf("%q does not parse: %v", value, err)
	}
	for _, rel := range deps.Relations {
		if len(rel.Possibilities) > 1 && !alternatives {
			return errors.New("alternatives ('|') not allowed in this field (dpkg f_dependency)")
		}
		for _, p := range rel.Possibilities {
			switch {
			case p.Substvar:
				return fmt.Errorf("unexpanded substitution variable ${%s}", p.Name)
			case p.Architectures != nil && len(p.Architectures.Architectures) > 0 || len(p.StageSets) > 0:
				return fmt.Errorf("reference to %s: architecture lists and build profiles belong in source packages only (dpkg f_dependency)", p.Name)
			}
			if err := checkReferenceName(p.Name); err != nil {
				return fmt.Errorf("reference to %q: %w", p.Name, err)
			}
			if p.Version != nil {
				if err := CheckVersion(p.Version.Number); err != nil {
					return fmt.Errorf("reference to %s: %w", p.Name, err)
				}
			}
		}
	}
	return nil
}
