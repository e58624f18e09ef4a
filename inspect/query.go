package inspect

import (
	"fmt"
	"strings"

	"pault.ag/go/debian/version"
)

// Query selects a package by name and an optional version range:
// PKG, PKG=V, PKG<<V, PKG<=V, PKG>=V, PKG>>V, or several relations
// separated by commas that must all hold (openssl>=3.0,<<3.0.15).
type Query struct {
	Name      string
	Relations []Relation
	// Source matches the source package's name instead of the binary's.
	Source bool
}

// Relation is one version relation: Op is one of = << <= >= >>.
type Relation struct {
	Op      string
	Version version.Version
}

// ops in the order to try them: two-character operators first.
var ops = []string{"<<", "<=", ">=", ">>", "="}

// ParseQuery parses PKG[OP VERSION][,OP VERSION…].
func ParseQuery(s string) (Query, error) {
	var q Query
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "<>=")
	if i < 0 {
		q.Name = s
	} else {
		q.Name = strings.TrimSpace(s[:i])
		for _, part := range strings.Split(s[i:], ",") {
			part = strings.TrimSpace(part)
			r, err := parseRelation(part)
			if err != nil {
				return Query{}, fmt.Errorf("%q: %w", s, err)
			}
			q.Relations = append(q.Relations, r)
		}
	}
	if q.Name == "" || strings.ContainsAny(q.Name, " \t,") {
		return Query{}, fmt.Errorf("%q: want PKG[=VERSION|<<VERSION|<=VERSION|>=VERSION|>>VERSION]", s)
	}
	return q, nil
}

func parseRelation(s string) (Relation, error) {
	for _, op := range ops {
		if rest, ok := strings.CutPrefix(s, op); ok {
			rest = strings.TrimSpace(rest)
			if rest == "" {
				return Relation{}, fmt.Errorf("%s without a version", op)
			}
			v, err := version.Parse(rest)
			if err != nil {
				return Relation{}, fmt.Errorf("version %q: %w", rest, err)
			}
			return Relation{Op: op, Version: v}, nil
		}
	}
	return Relation{}, fmt.Errorf("%q: want one of << <= = >= >> and a version", s)
}

// Holds reports whether version v satisfies the relation (dpkg's version
// comparison).
func (r Relation) Holds(v version.Version) bool {
	c := version.Compare(v, r.Version)
	switch r.Op {
	case "=":
		return c == 0
	case "<<":
		return c < 0
	case "<=":
		return c <= 0
	case ">=":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}

// Match reports whether p is the package the query names, in its range.
// A version that does not parse matches only a query without relations.
func (q Query) Match(p *Package) bool {
	n := p.Name
	if q.Source {
		n = p.SourceName()
	}
	if n != q.Name {
		return false
	}
	if len(q.Relations) == 0 {
		return true
	}
	vs := p.Version
	if q.Source && p.SourceVersion != "" {
		vs = p.SourceVersion
	}
	v, err := version.Parse(vs)
	if err != nil {
		return false
	}
	for _, r := range q.Relations {
		if !r.Holds(v) {
			return false
		}
	}
	return true
}

// String is the query as ParseQuery reads it.
func (q Query) String() string {
	var b strings.Builder
	b.WriteString(q.Name)
	for i, r := range q.Relations {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(r.Op + r.Version.String())
	}
	return b.String()
}
