package resolve

import (
	"fmt"
	"strings"
)

// Base selects the minimal system the requested packages are installed on.
// Every base package is a root of the resolution, like a requested one.
type Base int

const (
	// BaseMinimal is the Essential: yes set plus usr-is-merged when the
	// universe has it: what mmdebstrap --variant=essential builds with its
	// merged-usr hook, and the base the compose step uses (its base layer
	// ships the merged-/usr symlinks that usr-is-merged asserts). Without
	// usr-is-merged, apt would satisfy init-system-helpers' "usrmerge |
	// usr-is-merged" with usrmerge and pull in perl.
	BaseMinimal Base = iota
	// BaseEssential is the Essential: yes set alone.
	BaseEssential
	// BaseRequired is Essential: yes plus Priority: required
	// (mmdebstrap --variant=minbase).
	BaseRequired
	// BaseNone installs only the requested packages and their closure.
	BaseNone
)

// Request is what to install.
type Request struct {
	// Install names the packages to install: NAME or NAME=VERSION. A
	// version pins that package: it is used instead of the highest version
	// and every dependency must accept it. A name that only exists as a
	// virtual package with exactly one provider selects that provider.
	Install []string
	// Base is the minimal system underneath; the zero value is BaseMinimal.
	Base Base
	// Recommends follows Recommends too (apt-get --install-recommends).
	// Failing to satisfy a recommendation is not an error.
	Recommends bool
}

// BaseNames returns the package names of base b in u, sorted.
func (u *Universe) BaseNames(b Base) []string {
	switch b {
	case BaseMinimal:
		names := u.Essential()
		if u.Candidate("usr-is-merged") != nil {
			names = insertSorted(names, "usr-is-merged")
		}
		return names
	case BaseEssential:
		return u.Essential()
	case BaseRequired:
		return u.Required()
	}
	return nil
}

func insertSorted(names []string, s string) []string {
	for i, n := range names {
		if n == s {
			return names
		}
		if n > s {
			return append(names[:i], append([]string{s}, names[i:]...)...)
		}
	}
	return append(names, s)
}

// pin is one parsed Install entry.
type pin struct {
	name    string
	version string // "" when not pinned
}

func parseInstall(s string) (pin, error) {
	s = strings.TrimSpace(s)
	name, ver, pinned := strings.Cut(s, "=")
	if name == "" || strings.ContainsAny(name, " \t,|()") || (pinned && ver == "") {
		return pin{}, fmt.Errorf("resolve: %q: want NAME or NAME=VERSION", s)
	}
	return pin{name: name, version: ver}, nil
}
