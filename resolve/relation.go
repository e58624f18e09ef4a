package resolve

import (
	"fmt"
	"strings"

	"pault.ag/go/debian/dependency"
	"pault.ag/go/debian/version"
)

// archQual is the architecture qualifier of a relation target (name:any).
type archQual uint8

const (
	qualNone     archQual = iota // plain name: the native architecture (or a M-A: foreign provider)
	qualAny                      // name:any: needs Multi-Arch: allowed
	qualNative                   // name:native
	qualExplicit                 // name:ARCH
)

// alt is one alternative of an OR-group: a target name with an optional
// architecture qualifier and an optional version constraint.
type alt struct {
	name string
	qual archQual
	arch string // for qualExplicit
	op   string // "", "<<", "<=", "=", ">=", ">>"
	ver  version.Version
	text string // as written, for messages
}

// group is an OR-group: satisfied when any alternative is.
type group []alt

// String renders the group as it would appear in a control field.
func (g group) String() string {
	s := make([]string, len(g))
	for i, a := range g {
		s[i] = a.text
	}
	return strings.Join(s, " | ")
}

// provide is one entry of a Provides field; only "=" versions count.
type provide struct {
	name      string
	versioned bool
	ver       version.Version
}

// versionOK tells whether v satisfies the alternative's version constraint.
func (a *alt) versionOK(v version.Version) bool {
	if a.op == "" {
		return true
	}
	c := version.Compare(v, a.ver)
	switch a.op {
	case "<<":
		return c < 0
	case "<=":
		return c <= 0
	case "=":
		return c == 0
	case ">=":
		return c >= 0
	case ">>":
		return c > 0
	}
	return false
}

// parseGroups parses a relation field (Depends and friends) into OR-groups.
// Alternatives restricted to other architectures ([i386]) are dropped, as
// dpkg-gencontrol would have done; build profiles (<!nocheck>) are ignored.
func parseGroups(field, value string, native *dependency.Arch) ([]group, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	d, err := dependency.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", field, value, err)
	}
	gs := make([]group, 0, len(d.Relations))
	for _, r := range d.Relations {
		var g group
		for _, p := range r.Possibilities {
			if p.Architectures != nil && len(p.Architectures.Architectures) > 0 && !p.Architectures.Matches(native) {
				continue
			}
			a := alt{name: p.Name}
			if p.Arch != nil {
				switch {
				case p.Arch.CPU == "any" && p.Arch.OS == "any":
					a.qual = qualAny
				case p.Arch.CPU == "native":
					a.qual = qualNative
				default:
					a.qual = qualExplicit
					a.arch = p.Arch.String()
				}
			}
			if p.Version != nil {
				v, err := version.Parse(p.Version.Number)
				if err != nil {
					return nil, fmt.Errorf("%s: %q: version %q: %w", field, value, p.Version.Number, err)
				}
				a.op, a.ver = p.Version.Operator, v
			}
			a.text = altText(p)
			g = append(g, a)
		}
		if len(g) > 0 {
			gs = append(gs, g)
		}
	}
	return gs, nil
}

// altText renders a possibility without its architecture restriction list.
func altText(p dependency.Possibility) string {
	s := p.Name
	if p.Arch != nil {
		switch {
		case p.Arch.CPU == "any" && p.Arch.OS == "any":
			s += ":any"
		case p.Arch.CPU == "native":
			s += ":native"
		default:
			s += ":" + p.Arch.String()
		}
	}
	if p.Version != nil {
		s += " (" + p.Version.Operator + " " + p.Version.Number + ")"
	}
	return s
}

// parseProvides parses a Provides field. Entries with an operator other than
// "=" are ignored, as apt ignores them.
func parseProvides(value string) ([]provide, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, nil
	}
	d, err := dependency.Parse(value)
	if err != nil {
		return nil, fmt.Errorf("Provides: %q: %w", value, err)
	}
	var ps []provide
	for _, r := range d.Relations {
		for _, p := range r.Possibilities {
			pr := provide{name: p.Name}
			if p.Version != nil {
				if p.Version.Operator != "=" {
					continue
				}
				v, err := version.Parse(p.Version.Number)
				if err != nil {
					return nil, fmt.Errorf("Provides: %q: version %q: %w", value, p.Version.Number, err)
				}
				pr.versioned, pr.ver = true, v
			}
			ps = append(ps, pr)
		}
	}
	return ps, nil
}
