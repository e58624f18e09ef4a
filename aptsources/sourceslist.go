package aptsources

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Warning is a part of the apt configuration that was skipped: a source
// whose scheme cannot be fetched, an unknown option, a malformed line. The
// caller prints it; it never stops the load.
type Warning struct {
	Origin string // file:line
	Msg    string
}

// String is "file:line: message".
func (w Warning) String() string { return w.Origin + ": " + w.Msg }

// LoadSources reads the apt sources under root ("" or "/" for the host):
// etc/apt/sources.list, then etc/apt/sources.list.d/*.list and *.sources in
// name order, as apt does. Only `deb` entries that are enabled and whose
// URI scheme the client fetches (http, https, file) are returned; the rest
// are skipped, with a warning for what looks like a mistake or an unusable
// source. A missing file is not an error; an unreadable one is.
func LoadSources(root string) ([]Source, []Warning, error) {
	if root == "" {
		root = "/"
	}
	var files []string
	main := filepath.Join(root, "etc/apt/sources.list")
	if _, err := os.Stat(main); err == nil {
		files = append(files, main)
	}
	dir := filepath.Join(root, "etc/apt/sources.list.d")
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("apt sources: %w", err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !validPartName(n) {
			continue
		}
		if strings.HasSuffix(n, ".list") || strings.HasSuffix(n, ".sources") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		files = append(files, filepath.Join(dir, n))
	}
	var srcs []Source
	var warns []Warning
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("apt sources: %w", err)
		}
		var s []Source
		var w []Warning
		if strings.HasSuffix(f, ".sources") {
			s, w = ParseDeb822Sources(f, data)
		} else {
			s, w = ParseOneLineSources(f, data)
		}
		srcs = append(srcs, s...)
		warns = append(warns, w...)
	}
	return srcs, warns, nil
}

// validPartName is apt's rule for files in a .d directory: letters, digits,
// '_', '-' and '.'.
func validPartName(n string) bool {
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return n != ""
}

// checkScheme returns an error unless the client can fetch uri.
func checkScheme(uri string) error {
	u, err := url.Parse(uri)
	if err != nil {
		return fmt.Errorf("URI %q: %w", uri, err)
	}
	switch u.Scheme {
	case "http", "https", "file":
		return nil
	}
	return fmt.Errorf("URI %q: scheme %q is not supported (only http, https, file)", uri, u.Scheme)
}

// ParseDeb822Sources parses a deb822 .sources file; name is used in
// [Source.Origin] and warnings.
func ParseDeb822Sources(name string, data []byte) ([]Source, []Warning) {
	var srcs []Source
	var warns []Warning
	for _, st := range splitDeb822(data) {
		origin := fmt.Sprintf("%s:%d", name, st.line)
		warn := func(format string, a ...any) {
			warns = append(warns, Warning{origin, fmt.Sprintf(format, a...)})
		}
		f := st.fields
		if v, ok := f["enabled"]; ok && !yes(v) {
			continue
		}
		types := strings.Fields(f["types"])
		if !slices.Contains(types, "deb") {
			if len(types) == 0 {
				warn("no Types field; stanza skipped")
			}
			continue
		}
		uris := strings.Fields(f["uris"])
		suites := strings.Fields(f["suites"])
		if len(uris) == 0 || len(suites) == 0 {
			warn("stanza needs URIs and Suites; skipped")
			continue
		}
		comps := strings.Fields(f["components"])
		if !validSuites(suites, comps, warn) {
			continue
		}
		s := Source{
			Suites:        suites,
			Components:    comps,
			Architectures: fields(f["architectures"]),
			SignedBy:      strings.TrimSpace(f["signed-by"]),
			Origin:        origin,
		}
		if v, ok := f["check-valid-until"]; ok && !yes(v) {
			s.NoValidUntil = true
		}
		if v, ok := f["trusted"]; ok && yes(v) {
			warn("Trusted: yes is ignored; the Release is verified anyway")
		}
		for _, u := range uris {
			u = strings.TrimRight(u, "/")
			if err := checkScheme(u); err != nil {
				warn("%v; skipped", err)
				continue
			}
			c := s
			c.URI = u
			c.Suites = slices.Clone(suites)
			srcs = append(srcs, c)
		}
	}
	return srcs, warns
}

// validSuites refuses flat repositories (a suite ending in "/"), which have
// no dists/ tree, and suites without components.
func validSuites(suites, comps []string, warn func(string, ...any)) bool {
	for _, s := range suites {
		if strings.HasSuffix(s, "/") {
			warn("flat repository (suite %q) is not supported; skipped", s)
			return false
		}
	}
	if len(comps) == 0 {
		warn("no components; skipped")
		return false
	}
	return true
}

func yes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "with", "on", "enable":
		return true
	}
	return false
}

type deb822Stanza struct {
	line   int
	fields map[string]string // lower-cased field name → value, continuation lines joined with "\n"
}

// splitDeb822 splits deb822 text into stanzas. Comment lines (#) are
// dropped wherever they are; a continuation line " ." is an empty line.
func splitDeb822(data []byte) []deb822Stanza {
	var out []deb822Stanza
	var cur *deb822Stanza
	var last string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.TrimSpace(line) == "" {
			cur = nil
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil && last != "" {
				v := strings.TrimSpace(line)
				if v == "." {
					v = ""
				}
				cur.fields[last] += "\n" + v
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if cur == nil {
			out = append(out, deb822Stanza{line: n, fields: map[string]string{}})
			cur = &out[len(out)-1]
		}
		last = strings.ToLower(strings.TrimSpace(k))
		cur.fields[last] = strings.TrimSpace(v)
	}
	return out
}

// ParseOneLineSources parses one-line sources.list text:
//
//	deb [arch=amd64,arm64 signed-by=/usr/share/keyrings/x.gpg] URI SUITE COMPONENT...
//
// name is used in [Source.Origin] and warnings.
func ParseOneLineSources(name string, data []byte) ([]Source, []Warning) {
	var srcs []Source
	var warns []Warning
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		origin := fmt.Sprintf("%s:%d", name, n)
		warn := func(format string, a ...any) {
			warns = append(warns, Warning{origin, fmt.Sprintf(format, a...)})
		}
		typ, rest, _ := strings.Cut(line, " ")
		typ = strings.TrimSpace(typ)
		switch typ {
		case "deb":
		case "deb-src":
			continue
		default:
			warn("unknown type %q; line skipped", typ)
			continue
		}
		rest = strings.TrimSpace(rest)
		s := Source{Origin: origin}
		if strings.HasPrefix(rest, "[") {
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				warn("unterminated [options]; line skipped")
				continue
			}
			for _, opt := range strings.Fields(rest[1:end]) {
				k, v, ok := strings.Cut(opt, "=")
				if !ok {
					warn("option %q has no value; ignored", opt)
					continue
				}
				switch k {
				case "arch":
					s.Architectures = strings.Split(v, ",")
				case "signed-by":
					s.SignedBy = v
				case "check-valid-until":
					s.NoValidUntil = !yes(v)
				case "trusted":
					if yes(v) {
						warn("trusted=yes is ignored; the Release is verified anyway")
					}
				case "lang", "target", "pdiffs", "by-hash", "allow-insecure", "allow-weak", "allow-downgrade-to-insecure", "inrelease-path", "snapshot":
				default:
					warn("option %q is not supported; ignored", k)
				}
			}
			rest = rest[end+1:]
		}
		f := strings.Fields(rest)
		if len(f) < 2 {
			warn("needs a URI and a suite; line skipped")
			continue
		}
		s.URI = strings.TrimRight(f[0], "/")
		s.Suites = []string{f[1]}
		s.Components = f[2:]
		if !validSuites(s.Suites, s.Components, warn) {
			continue
		}
		if err := checkScheme(s.URI); err != nil {
			warn("%v; skipped", err)
			continue
		}
		srcs = append(srcs, s)
	}
	return srcs, warns
}

// fields splits s on white space; nil if there is nothing.
func fields(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	return f
}
