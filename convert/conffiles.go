package convert

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// maxConffileLine is the longest conffiles line dpkg --unpack reads,
// without its newline: fgets into MAXCONFFILENAME-2 (998) bytes in
// deb_parse_conffiles (src/main/unpack.c) leaves 997 characters, newline
// included; a longer line is dpkg's "too long, or missing final newline".
const maxConffileLine = 996

// removeOnUpgrade is the one conffile flag dpkg ≥ 1.20 knows.
const removeOnUpgrade = "remove-on-upgrade"

// conffileLine is one entry of the conffiles control member.
type conffileLine struct {
	path  string
	flags []string
}

// parseConffiles parses a conffiles control member as dpkg --unpack does
// (deb_parse_conffiles, src/main/unpack.c): one absolute path per line,
// optionally after the flag "remove-on-upgrade"; trailing whitespace
// trimmed and blank lines skipped; every line, the last included, ends in
// a newline. Refused as dpkg refuses them: a missing final newline, a line
// too long, a relative path, a missing path after a flag, an unknown flag.
// Refused beyond dpkg, because they would be junk in the status database:
// a path that is not clean ("//", "." or ".." components, a trailing "/",
// the root), that has whitespace or a control character (the status
// Conffiles line is split on spaces), or that is listed twice.
func parseConffiles(data []byte) ([]conffileLine, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if data[len(data)-1] != '\n' {
		return nil, errors.New(`conffiles: the last line does not end in a newline (dpkg: "missing final newline")`)
	}
	var out []conffileLine
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data[:len(data)-1]), "\n") {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("conffiles line %d: "+format, append([]any{i + 1}, args...)...)
		}
		if len(line) > maxConffileLine {
			return nil, bad("longer than dpkg's limit of %d bytes", maxConffileLine)
		}
		line = strings.TrimRight(line, " \t\r\v\f")
		if line == "" {
			continue
		}
		cf := conffileLine{path: line}
		if line[0] != '/' {
			flag, p, ok := strings.Cut(line, " ")
			switch {
			case !ok || p != "" && p[0] != '/':
				return nil, bad("%q is not an absolute path", line)
			case p == "":
				return nil, bad("no path after the flag %q", flag)
			case flag != removeOnUpgrade:
				return nil, bad("unknown flag %q (dpkg knows only %s)", flag, removeOnUpgrade)
			}
			cf = conffileLine{path: p, flags: []string{flag}}
		}
		p := cf.path
		if strings.IndexFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return nil, bad("%q contains whitespace or a control character", p)
		}
		if p == "/" || path.Clean(p) != p {
			return nil, bad(`%q is not a clean absolute path (the root, or "//", "." or ".." components, or a trailing "/")`, p)
		}
		if seen[p] {
			return nil, bad("%q is listed twice", p)
		}
		seen[p] = true
		out = append(out, cf)
	}
	return out, nil
}

// checkConffiles checks the conffiles against the package's paths (the
// original paths, as in the .list): a conffile must be shipped, as
// dpkg-deb --build requires ("conffile does not appear in package"),
// unless it is marked remove-on-upgrade, which must not be shipped (dpkg
// --unpack: "conffile marked for removal on upgrade, shipped in package").
func (c *converter) checkConffiles() error {
	shipped := map[string]bool{}
	for _, p := range c.list {
		shipped[p] = true
	}
	for _, p := range c.links {
		shipped[p] = true
	}
	for _, cf := range c.conffiles {
		remove := len(cf.flags) > 0 && cf.flags[0] == removeOnUpgrade
		switch {
		case remove && shipped[cf.path]:
			return fmt.Errorf("conffiles: %q is marked %s, but the package ships it (dpkg --unpack refuses that)", cf.path, removeOnUpgrade)
		case !remove && !shipped[cf.path]:
			return fmt.Errorf("conffiles: %q is not in the package (dpkg-deb --build refuses that)", cf.path)
		}
	}
	return nil
}
