// Package depcheck enforces the module's import rules: which of its
// packages may depend on which, directly or through others (as
// go-containerregistry's internal/depcheck does). The rules live in
// depcheck_test.go; `go test ./internal/depcheck` fails on an arrow they
// forbid, naming the path of imports that makes it.
package depcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Graph maps each package of the module to the packages it imports
// directly (the module's and others', standard library left out).
type Graph map[string][]string

// Load lists the packages matching patterns (run in dir) and their direct
// imports, with `go list`; test files are not included.
func Load(dir string, patterns ...string) (Graph, error) {
	cmd := exec.Command("go", append([]string{"list", "-deps", "-json=ImportPath,Imports,Standard,Dir,GoFiles"}, patterns...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	g := Graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Standard   bool
			Dir        string
			GoFiles    []string
		}
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		if p.Standard {
			continue
		}
		// Stat each file, so that a cached test result is dropped when
		// one changes (go test tracks the files a test opens or stats,
		// not what a command it runs reads).
		for _, f := range p.GoFiles {
			os.Stat(filepath.Join(p.Dir, f))
		}
		g[p.ImportPath] = p.Imports
	}
	return g, nil
}

// Path is the chain of imports from one package to dep, a package it
// depends on (with a "/..." suffix: that package or one below it), or nil
// when it does not depend on it.
func (g Graph) Path(from, dep string) []string {
	base, tree := strings.CutSuffix(dep, "/...")
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		imps := append([]string(nil), g[p]...)
		sort.Strings(imps)
		for _, q := range imps {
			if _, seen := prev[q]; seen {
				continue
			}
			prev[q] = p
			if q == base || tree && strings.HasPrefix(q, base+"/") {
				var path []string
				for at := q; at != ""; at = prev[at] {
					path = append([]string{at}, path...)
				}
				return path
			}
			queue = append(queue, q)
		}
	}
	return nil
}

// Rule forbids the packages matching From to depend on any of Not,
// directly or not. Each is a package path; with a "/..." suffix it stands
// for that package and those below it.
type Rule struct {
	From string
	Not  []string
	Why  string
}

// Check returns one message per forbidden arrow of g: the rule's reason
// and the chain of imports.
func Check(g Graph, rules []Rule) []string {
	var out []string
	for _, r := range rules {
		var froms []string
		for p := range g {
			if base, ok := strings.CutSuffix(r.From, "/..."); ok {
				if p == base || strings.HasPrefix(p, base+"/") {
					froms = append(froms, p)
				}
			} else if p == r.From {
				froms = append(froms, p)
			}
		}
		if len(froms) == 0 {
			out = append(out, fmt.Sprintf("rule for %s matches no package", r.From))
		}
		sort.Strings(froms)
		for _, p := range froms {
			for _, dep := range r.Not {
				if path := g.Path(p, dep); path != nil {
					out = append(out, fmt.Sprintf("%s must not depend on %s (%s): %s", p, dep, r.Why, strings.Join(path, " -> ")))
				}
			}
		}
	}
	return out
}
