// Package imagefile reads image definition files: the YAML file
// `deb2fs compose -f image.yaml` composes from, naming the packages, the
// files of a build context, accounts and the image's runtime settings. A
// file is checked against schema.json (a JSON Schema, also for editors),
// then against what the schema cannot say (a source missing from the
// context, an owner naming no account); every error names the file, the
// line and the key at fault. docs/imagefile.md describes the format.
package imagefile

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/extsource"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/localdeb"
	"github.com/deb2fs/deb2fs/lockfile"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// Schema is the JSON Schema of an image definition.
//
//go:embed schema.json
var Schema []byte

// Definition is a checked image definition.
type Definition struct {
	// Path is the file; Context is the build context, its directory;
	// Digest is the file's sha256:HEX.
	Path, Context, Digest string
	// Name is the image's tag ("" for the default).
	Name string
	// Packages are NAME or NAME=VERSION, as on the command line.
	Packages   []string
	Recommends bool
	// Debs are local .debs (paths in the build context).
	Debs []string
	// Sources are extra apt sources, each signed by the keyring of the
	// build context it names (SignedBy, an absolute path).
	Sources  []aptsources.Source
	Accounts configure.Accounts
	// Files are the files layer's entries, the context's directories
	// expanded into their files.
	Files  []compose.File
	Config compose.Config
	Cmd    []string
}

// Error is a definition that is not valid: the file, the line and column
// of the value at fault (0 when it is the file as a whole), the key path
// (files[2].src) and what is wrong.
type Error struct {
	File      string
	Line, Col int
	Key       string
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// raw mirrors the file; the schema has checked its shape when it is
// decoded.
type raw struct {
	Name       string   `yaml:"name"`
	Packages   []string `yaml:"packages"`
	Recommends bool     `yaml:"install-recommends"`
	Debs       []string `yaml:"debs"`
	Sources    []struct {
		URI        string   `yaml:"uri"`
		Suites     []string `yaml:"suites"`
		Components []string `yaml:"components"`
		Keyring    string   `yaml:"keyring"`
	} `yaml:"sources"`
	Accounts struct {
		Groups []struct {
			Name    string   `yaml:"name"`
			GID     int      `yaml:"gid"`
			Members []string `yaml:"members"`
		} `yaml:"groups"`
		Users []struct {
			Name   string   `yaml:"name"`
			UID    int      `yaml:"uid"`
			GID    *int     `yaml:"gid"`
			Home   string   `yaml:"home"`
			Shell  string   `yaml:"shell"`
			Gecos  string   `yaml:"gecos"`
			Groups []string `yaml:"groups"`
		} `yaml:"users"`
	} `yaml:"accounts"`
	Files []struct {
		Path    string `yaml:"path"`
		Src     string `yaml:"src"`
		Type    string `yaml:"type"`
		Target  string `yaml:"target"`
		Owner   string `yaml:"owner"`
		Mode    string `yaml:"mode"`
		DirMode string `yaml:"dir-mode"`
	} `yaml:"files"`
	Environment map[string]string `yaml:"environment"`
	Entrypoint  []string          `yaml:"entrypoint"`
	Cmd         []string          `yaml:"cmd"`
	WorkDir     string            `yaml:"work-dir"`
	User        string            `yaml:"user"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// Load reads and checks the definition at path.
func Load(path string) (*Definition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, filepath.Dir(abs), data)
}

// Parse checks a definition read from file (the name errors give), whose
// build context is the directory contextDir.
func Parse(file, contextDir string, data []byte) (*Definition, error) {
	p := &parser{file: file, data: data}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, p.yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: file, Msg: "empty: want a mapping with at least packages"}
	}
	p.root = doc.Content[0]
	inst, err := p.value(p.root, "")
	if err != nil {
		return nil, err
	}
	if err := validate(inst); err != nil {
		return nil, p.schemaError(err)
	}
	var r raw
	if err := p.root.Decode(&r); err != nil {
		return nil, p.yamlError(err)
	}
	return p.definition(&r, contextDir)
}

type parser struct {
	file string
	data []byte
	root *yaml.Node
}

// errAt is an error at the node of key path keys (files[2].src); the
// nearest node that exists gives the line.
func (p *parser) errAt(key string, format string, args ...any) error {
	n := p.lookup(key)
	e := &Error{File: p.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// lookup finds the node of a key path such as files[2].src, or the
// deepest existing node on the way.
func (p *parser) lookup(key string) *yaml.Node {
	n := p.root
	if key == "" {
		return n
	}
	for _, part := range splitKey(key) {
		next := child(n, part)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// splitKey splits files[2].src into files, 2, src.
func splitKey(key string) []string {
	var parts []string
	for _, dotted := range strings.Split(key, ".") {
		name, rest, _ := strings.Cut(dotted, "[")
		if name != "" {
			parts = append(parts, name)
		}
		for rest != "" {
			var idx string
			idx, rest, _ = strings.Cut(rest, "]")
			parts = append(parts, idx)
			rest = strings.TrimPrefix(rest, "[")
		}
	}
	return parts
}

// child is a mapping's value for a key, or a sequence's element.
func child(n *yaml.Node, part string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

// value turns a node into what the JSON Schema validator takes: maps,
// slices, strings, json.Number-like numbers, booleans, nil. Anchors,
// aliases, merge keys and non-string keys are refused: a definition is
// plain data.
func (p *parser) value(n *yaml.Node, key string) (any, error) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return nil, &Error{File: p.file, Line: n.Line, Col: n.Column, Key: key, Msg: "anchors and aliases are not allowed"}
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				return nil, &Error{File: p.file, Line: k.Line, Col: k.Column, Key: key, Msg: fmt.Sprintf("key %q is not a string", k.Value)}
			}
			sub := k.Value
			if key != "" {
				sub = key + "." + k.Value
			}
			if _, dup := m[k.Value]; dup {
				return nil, &Error{File: p.file, Line: k.Line, Col: k.Column, Key: sub, Msg: "given twice"}
			}
			v, err := p.value(n.Content[i+1], sub)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := p.value(c, fmt.Sprintf("%s[%d]", key, i))
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			err := n.Decode(&b)
			return b, err
		case "!!int", "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, &Error{File: p.file, Line: n.Line, Col: n.Column, Key: key, Msg: err.Error()}
			}
			return f, nil
		case "!!str":
			return n.Value, nil
		}
		return nil, &Error{File: p.file, Line: n.Line, Col: n.Column, Key: key, Msg: fmt.Sprintf("value of type %s is not allowed", n.Tag)}
	}
	return nil, &Error{File: p.file, Line: n.Line, Col: n.Column, Key: key, Msg: "unexpected YAML node"}
}

var compiled *jsonschema.Schema

func validate(inst any) error {
	if compiled == nil {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
		if err != nil {
			return err
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("schema.json", doc); err != nil {
			return err
		}
		if compiled, err = c.Compile("schema.json"); err != nil {
			return err
		}
	}
	return compiled.Validate(inst)
}

// schemaError turns the validator's error into an Error at the deepest
// failing value: the most precise of its causes.
func (p *parser) schemaError(err error) error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Error{File: p.file, Msg: err.Error()}
	}
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	key := ""
	for _, part := range ve.InstanceLocation {
		if _, err := strconv.Atoi(part); err == nil {
			key += "[" + part + "]"
		} else if key == "" {
			key = part
		} else {
			key += "." + part
		}
	}
	msg := ve.ErrorKind.LocalizedString(message.NewPrinter(language.English))
	if ap, ok := ve.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
		name := ap.Properties[0]
		sub := name
		if key != "" {
			sub = key + "." + name
		}
		e := p.errAt(sub, "unknown key")
		if n := p.keyNode(key, name); n != nil {
			e.(*Error).Line, e.(*Error).Col = n.Line, n.Column
		}
		return e
	}
	return p.errAt(key, "%s", msg)
}

// keyNode is the key node name in the mapping at key path key.
func (p *parser) keyNode(key, name string) *yaml.Node {
	n := p.lookup(key)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == name {
			return n.Content[i]
		}
	}
	return nil
}

func (p *parser) yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	e := &Error{File: p.file, Msg: msg}
	if line, rest, ok := strings.Cut(msg, ": "); ok && strings.HasPrefix(line, "line ") {
		if n, err := strconv.Atoi(strings.TrimPrefix(line, "line ")); err == nil {
			e.Line, e.Col, e.Msg = n, 1, rest
		}
	}
	return e
}

// definition checks what the schema cannot and builds the Definition.
func (p *parser) definition(r *raw, contextDir string) (*Definition, error) {
	sum := sha256.Sum256(p.data)
	d := &Definition{Path: p.file, Context: contextDir, Digest: "sha256:" + hex.EncodeToString(sum[:]), Name: r.Name, Packages: r.Packages, Recommends: r.Recommends, Cmd: r.Cmd}
	seenPkg := map[string]int{}
	for i, pkg := range r.Packages {
		name, _, _ := strings.Cut(pkg, "=")
		if j, ok := seenPkg[name]; ok {
			return nil, p.errAt(fmt.Sprintf("packages[%d]", i), "%s is listed already (packages[%d])", name, j)
		}
		seenPkg[name] = i
	}

	for i, deb := range r.Debs {
		p2, err := inContextOf(contextDir, deb)
		if err != nil {
			return nil, p.errAt(fmt.Sprintf("debs[%d]", i), "%v", err)
		}
		if fi, err := os.Stat(p2); err != nil || !fi.Mode().IsRegular() {
			return nil, p.errAt(fmt.Sprintf("debs[%d]", i), "%s: not a regular file", deb)
		}
		d.Debs = append(d.Debs, p2)
	}

	for i, src := range r.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		kr, err := inContextOf(contextDir, src.Keyring)
		if err != nil {
			return nil, p.errAt(key+".keyring", "%v", err)
		}
		if fi, err := os.Stat(kr); err != nil || !fi.Mode().IsRegular() {
			return nil, p.errAt(key+".keyring", "%s: not a regular file", src.Keyring)
		}
		d.Sources = append(d.Sources, aptsources.Source{
			URI: strings.TrimRight(src.URI, "/"), Suites: src.Suites, Components: src.Components,
			SignedBy: kr, Origin: fmt.Sprintf("%s %s", p.file, key),
		})
	}

	// Accounts: the ids files may be owned by.
	users := map[string][2]int{"root": {0, 0}}
	groups := map[string]int{"root": 0}
	for i, g := range r.Accounts.Groups {
		key := fmt.Sprintf("accounts.groups[%d]", i)
		if _, dup := groups[g.Name]; dup {
			return nil, p.errAt(key+".name", "group %s is declared twice (or is root)", g.Name)
		}
		groups[g.Name] = g.GID
		d.Accounts.Groups = append(d.Accounts.Groups, configure.Group{Name: g.Name, GID: g.GID, Members: g.Members})
	}
	for i, u := range r.Accounts.Users {
		key := fmt.Sprintf("accounts.users[%d]", i)
		if _, dup := users[u.Name]; dup {
			return nil, p.errAt(key+".name", "user %s is declared twice (or is root)", u.Name)
		}
		gid := u.UID
		if u.GID != nil {
			gid = *u.GID
		}
		home, shell := u.Home, u.Shell
		if home == "" {
			home = "/home/" + u.Name
		}
		if shell == "" {
			shell = "/usr/sbin/nologin"
		}
		users[u.Name] = [2]int{u.UID, gid}
		if _, ok := groups[u.Name]; !ok {
			groups[u.Name] = gid // the group made with the user, when no group has gid
		}
		d.Accounts.Users = append(d.Accounts.Users, configure.User{Name: u.Name, UID: u.UID, GID: gid, Home: home, Shell: shell, Gecos: u.Gecos, Groups: u.Groups})
	}

	// Files.
	ctx, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return nil, &Error{File: p.file, Msg: fmt.Sprintf("build context %s: %v", contextDir, err)}
	}
	seen := map[string]string{}
	add := func(key string, f compose.File) error {
		if prev, ok := seen[f.Path]; ok {
			return p.errAt(key, "%s is given already (by %s)", f.Path, prev)
		}
		seen[f.Path] = key
		d.Files = append(d.Files, f)
		return nil
	}
	for i, f := range r.Files {
		key := fmt.Sprintf("files[%d]", i)
		dst := path.Clean(f.Path)
		if dst == "/" {
			return nil, p.errAt(key+".path", "the root itself cannot be a file")
		}
		uid, gid, err := owner(f.Owner, users, groups)
		if err != nil {
			return nil, p.errAt(key+".owner", "%v", err)
		}
		fileMode, err := octal(f.Mode, -1)
		if err != nil {
			return nil, p.errAt(key+".mode", "%v", err)
		}
		dirMode, err := octal(f.DirMode, 0o755)
		if err != nil {
			return nil, p.errAt(key+".dir-mode", "%v", err)
		}
		typ := f.Type
		if typ == "" {
			switch {
			case f.Src != "":
				typ = "file" // or a directory, by the source
			case f.Target != "":
				typ = "symlink"
			default:
				typ = "directory"
			}
		}
		switch {
		case typ == "symlink" && (f.Target == "" || f.Src != ""):
			return nil, p.errAt(key, "a symlink needs target and no src")
		case typ != "symlink" && f.Target != "":
			return nil, p.errAt(key+".target", "only a symlink has a target")
		case typ == "directory" && f.Src != "" && f.Type != "":
			return nil, p.errAt(key+".src", "type: directory makes an empty directory; give src without type to copy one")
		}
		switch {
		case typ == "symlink":
			if err := add(key, compose.File{Path: dst, Type: tar.TypeSymlink, Target: f.Target, Mode: 0o777, UID: uid, GID: gid}); err != nil {
				return nil, err
			}
		case f.Src == "":
			if err := add(key, compose.File{Path: dst, Type: tar.TypeDir, Mode: dirMode, UID: uid, GID: gid}); err != nil {
				return nil, err
			}
		default:
			src, err := inContext(ctx, f.Src)
			if err != nil {
				return nil, p.errAt(key+".src", "%v", err)
			}
			err = filepath.WalkDir(src, func(hostPath string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(src, hostPath)
				target := dst
				if rel != "." {
					target = path.Join(dst, filepath.ToSlash(rel))
				}
				fi, err := de.Info()
				if err != nil {
					return err
				}
				entry := compose.File{Path: target, UID: uid, GID: gid}
				switch {
				case fi.Mode().IsRegular():
					entry.Type, entry.Source, entry.Mode = tar.TypeReg, hostPath, fileMode
					if fileMode < 0 {
						entry.Mode = 0o644
						if fi.Mode()&0o111 != 0 {
							entry.Mode = 0o755
						}
					}
				case fi.IsDir():
					entry.Type, entry.Mode = tar.TypeDir, dirMode
				case fi.Mode()&fs.ModeSymlink != 0:
					t, err := os.Readlink(hostPath)
					if err != nil {
						return err
					}
					entry.Type, entry.Target, entry.Mode = tar.TypeSymlink, t, 0o777
				default:
					return fmt.Errorf("%s: a %s, not a file, directory or symlink", hostPath, fi.Mode().Type())
				}
				return add(key, entry)
			})
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					return nil, e
				}
				return nil, p.errAt(key+".src", "%v", err)
			}
		}
	}

	// Runtime settings.
	var envKeys []string
	for k := range r.Environment {
		envKeys = append(envKeys, k)
	}
	sort.Strings(envKeys)
	for _, k := range envKeys {
		d.Config.Env = append(d.Config.Env, k+"="+r.Environment[k])
	}
	d.Config.Entrypoint = r.Entrypoint
	d.Config.WorkingDir = r.WorkDir
	d.Config.User = r.User
	for i, port := range r.Ports {
		if !strings.Contains(port, "/") {
			port += "/tcp"
		}
		n, _ := strconv.Atoi(strings.Split(port, "/")[0])
		if n < 1 || n > 65535 {
			return nil, p.errAt(fmt.Sprintf("ports[%d]", i), "port %d is not in 1..65535", n)
		}
		d.Config.ExposedPorts = append(d.Config.ExposedPorts, port)
	}
	d.Config.Volumes = r.Volumes
	d.Config.Labels = r.Labels
	d.Config.Annotations = r.Annotations
	return d, nil
}

// inContextOf is inContext for a context directory not yet resolved.
func inContextOf(contextDir, src string) (string, error) {
	ctx, err := filepath.EvalSymlinks(contextDir)
	if err != nil {
		return "", fmt.Errorf("build context %s: %v", contextDir, err)
	}
	return inContext(ctx, src)
}

// inContext resolves a source path inside the build context: relative,
// and neither it nor a symlink on the way leads out of the context.
func inContext(ctx, src string) (string, error) {
	if filepath.IsAbs(src) {
		return "", fmt.Errorf("%s: must be relative to the build context %s", src, ctx)
	}
	p, err := filepath.EvalSymlinks(filepath.Join(ctx, src))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%s: no such file in the build context %s", src, ctx)
		}
		return "", err
	}
	if rel, err := filepath.Rel(ctx, p); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s: leads out of the build context %s (to %s)", src, ctx, p)
	}
	return p, nil
}

// owner parses UID:GID, USER, USER:GROUP (names of the file's accounts,
// or root); "" is root.
func owner(s string, users map[string][2]int, groups map[string]int) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	u, g, hasGroup := strings.Cut(s, ":")
	uid, gid := 0, 0
	if n, err := strconv.Atoi(u); err == nil && n >= 0 {
		uid, gid = n, n
	} else if ids, ok := users[u]; ok {
		uid, gid = ids[0], ids[1]
	} else {
		return 0, 0, fmt.Errorf("owner %q: %s is no uid and no user of this file's accounts (or root)", s, u)
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil && n >= 0 {
			gid = n
		} else if id, ok := groups[g]; ok {
			gid = id
		} else {
			return 0, 0, fmt.Errorf("owner %q: %s is no gid and no group of this file's accounts (or root)", s, g)
		}
	}
	if uid > 65533 || gid > 65533 {
		return 0, 0, fmt.Errorf("owner %q: ids above 65533 are not allowed", s)
	}
	return uid, gid, nil
}

// octal parses permission bits written as octal (0644, "0644", "644");
// "" gives def.
func octal(s string, def int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "0o"), 8, 64)
	if err != nil || n < 0 || n > 0o7777 {
		return 0, fmt.Errorf("%q is not an octal mode (0644, 0755, 4755…)", s)
	}
	return n, nil
}

// Resolve resolves the definition's packages over idx, with its local
// .debs converted into st and its extra sources' packages added
// (extsource), resolved together with the archive: the package set
// compose configures, and the request it records. The packages picked
// from an extra source are fetched and converted into st.
func (d *Definition) Resolve(ctx context.Context, st *store.Store, idx *index.Index) ([]index.Entry, resolve.Request, error) {
	req := resolve.Request{Install: append([]string(nil), d.Packages...), Recommends: d.Recommends}
	idx, added, pins, err := d.extend(ctx, st, idx)
	if err != nil {
		return nil, req, err
	}
	req.Install = append(req.Install, pins...)
	es, err := idx.Resolve(req, "")
	if err != nil {
		return nil, req, fmt.Errorf("%s: %w", d.Path, err)
	}
	if added != nil {
		if err := added.Fill(ctx, st, es); err != nil {
			return nil, req, fmt.Errorf("%s: %w", d.Path, err)
		}
	}
	return es, req, nil
}

// extend adds the definition's extra sources and local .debs to idx:
// the index to resolve over, the sources' packages (nil without sources)
// and the requests that pick the local .debs.
func (d *Definition) extend(ctx context.Context, st *store.Store, idx *index.Index) (*index.Index, *extsource.Added, []string, error) {
	var added *extsource.Added
	if len(d.Sources) > 0 {
		var err error
		if added, err = extsource.Add(ctx, archive.New(), st, idx, slices.Clone(d.Sources)); err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", d.Path, err)
		}
		idx = added.Index
	}
	var pins []string
	if len(d.Debs) > 0 {
		var err error
		if idx, pins, err = localdeb.Add(ctx, st, idx, d.Debs); err != nil {
			return nil, nil, nil, err
		}
	}
	return idx, added, pins, nil
}

// ResolveLocked is the package set of the definition's lock l: each
// locked package looked up in the indexes (with the definition's extra
// sources and local .debs added to each), checked against the lock. A
// lock the definition no longer matches is an error (lockfile.ErrStale).
// A locked package of an extra source the store lacks is fetched from it
// and converted.
func (d *Definition) ResolveLocked(ctx context.Context, st *store.Store, l *lockfile.Lock, indexes ...*index.Index) ([]index.Entry, resolve.Request, error) {
	req := resolve.Request{Install: l.Request.Install, Recommends: l.Request.Recommends}
	if err := l.Check(d.Packages, d.Recommends, d.Debs); err != nil {
		return nil, req, fmt.Errorf("%s: %w", d.Path, err)
	}
	var with []*index.Index
	for _, ix := range indexes {
		if ix == nil {
			continue
		}
		ix, added, _, err := d.extend(ctx, st, ix)
		if err != nil {
			return nil, req, err
		}
		if added != nil {
			// Only the locked packages of the sources are fetched.
			var locked []index.Entry
			for _, e := range ix.Packages {
				if added.From(e) && l.Has(e.DebSHA256) {
					locked = append(locked, e)
				}
			}
			if err := added.Fill(ctx, st, locked); err != nil {
				return nil, req, fmt.Errorf("%s: %w", d.Path, err)
			}
			ix = added.Index
		}
		with = append(with, ix)
	}
	es, err := l.Entries(with...)
	return es, req, err
}
