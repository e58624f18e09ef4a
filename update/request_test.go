package update

import (
	"slices"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect"
)

// InferRequest keeps the packages nothing else depends on, through
// versions, alternatives, architecture qualifiers and Provides, and drops
// the essential set and usr-is-merged.
func TestInferRequest(t *testing.T) {
	es := map[string]*index.Entry{
		"app":           {Package: "app", Depends: "libfoo1 (>= 1.0), mail-transport-agent | exim4, python3:any"},
		"tool":          {Package: "tool", PreDepends: "libbar1"},
		"libfoo1":       {Package: "libfoo1", Depends: "libc6 (>= 2.34)"},
		"libbar1":       {Package: "libbar1"},
		"postfix":       {Package: "postfix", Provides: "mail-transport-agent"},
		"python3":       {Package: "python3"},
		"libc6":         {Package: "libc6"},
		"bash":          {Package: "bash", Essential: true},
		"usr-is-merged": {Package: "usr-is-merged"},
		"orphan":        {Package: "orphan"},
	}
	im := &inspect.Image{}
	for n := range es {
		im.Packages = append(im.Packages, inspect.Package{Name: n, Version: "1"})
	}
	slices.SortFunc(im.Packages, func(a, b inspect.Package) int { return strings.Compare(a.Name, b.Name) })
	got := InferRequest(im, func(p *inspect.Package) *index.Entry {
		if p.Name == "orphan" {
			return nil // unknown: kept
		}
		return es[p.Name]
	})
	if strings.Join(got, " ") != "app orphan tool" {
		t.Errorf("inferred %v, want app orphan tool", got)
	}
}
