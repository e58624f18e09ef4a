package resolve

import (
	"errors"
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// withDefaults adds "Version: 1.0" and "Architecture: amd64" to the
// hand-written stanzas that leave them out: the Packages scanner, like apt,
// refuses a stanza without a Version.
func withDefaults(text string) string {
	var out []string
	for _, st := range strings.Split(strings.TrimSpace(text), "\n\n") {
		st = strings.TrimSpace(st)
		if !strings.Contains("\n"+st, "\nVersion:") {
			st += "\nVersion: 1.0"
		}
		if !strings.Contains("\n"+st, "\nArchitecture:") {
			st += "\nArchitecture: amd64"
		}
		out = append(out, st)
	}
	return strings.Join(out, "\n\n") + "\n"
}

// universe builds a universe from Packages-style stanzas; Version defaults
// to 1.0 and Architecture to amd64.
func universe(t testing.TB, text string) *Universe {
	t.Helper()
	ps, err := parseStanzas(strings.NewReader(withDefaults(text)))
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUniverse("amd64", ps)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func resolveNames(t *testing.T, u *Universe, req Request) []string {
	t.Helper()
	r, err := u.Resolve(req)
	if err != nil {
		t.Fatalf("Resolve(%v): %v", req.Install, err)
	}
	return r.Names()
}

func versionsOf(t *testing.T, u *Universe, req Request) []string {
	t.Helper()
	r, err := u.Resolve(req)
	if err != nil {
		t.Fatalf("Resolve(%v): %v", req.Install, err)
	}
	var out []string
	for _, p := range r.Packages {
		out = append(out, p.Name+"="+p.Version)
	}
	return out
}

func want(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func unsat(t *testing.T, u *Universe, req Request) *UnsatisfiableError {
	t.Helper()
	_, err := u.Resolve(req)
	var ue *UnsatisfiableError
	if !errors.As(err, &ue) {
		t.Fatalf("Resolve(%v): got %v, want an UnsatisfiableError", req.Install, err)
	}
	return ue
}

const baseUniverse = `
Package: libc6
Priority: optional
Multi-Arch: same

Package: base-passwd
Essential: yes
Priority: required
Depends: libc6

Package: bash
Essential: yes
Priority: required
Depends: base-files, libc6

Package: base-files
Essential: yes
Priority: required

Package: init-system-helpers
Essential: yes
Priority: required
Depends: usrmerge | usr-is-merged

Package: usrmerge
Priority: optional
Depends: perl

Package: perl
Priority: optional

Package: usr-is-merged
Priority: optional
Architecture: all
Multi-Arch: foreign

Package: mawk
Priority: required
Provides: awk

Package: gawk
Priority: optional
Provides: awk

Package: apt
Priority: required
Depends: libc6
`

func TestBaseSets(t *testing.T) {
	u := universe(t, baseUniverse)
	want(t, u.BaseNames(BaseEssential), "base-files", "base-passwd", "bash", "init-system-helpers")
	want(t, u.BaseNames(BaseMinimal), "base-files", "base-passwd", "bash", "init-system-helpers", "usr-is-merged")
	want(t, u.BaseNames(BaseRequired), "apt", "base-files", "base-passwd", "bash", "init-system-helpers", "mawk")
	if got := u.BaseNames(BaseNone); len(got) != 0 {
		t.Errorf("BaseNone: %v", got)
	}
	// The merged-/usr base satisfies "usrmerge | usr-is-merged" with the
	// second alternative; Essential alone takes the first, like apt.
	want(t, resolveNames(t, u, Request{}), "base-files", "base-passwd", "bash", "init-system-helpers", "libc6", "usr-is-merged")
	want(t, resolveNames(t, u, Request{Base: BaseEssential}), "base-files", "base-passwd", "bash", "init-system-helpers", "libc6", "perl", "usrmerge")
	want(t, resolveNames(t, u, Request{Base: BaseNone, Install: []string{"apt"}}), "apt", "libc6")
}

func TestAlternatives(t *testing.T) {
	u := universe(t, `
Package: a
Depends: x | y

Package: b
Depends: y

Package: x

Package: y

Package: c
Depends: missing | y

Package: d
Depends: broken | y

Package: broken
Depends: nowhere

Package: e
Depends: clash | y

Package: clash
Conflicts: b
`)
	none := Request{Base: BaseNone}
	req := func(names ...string) Request { r := none; r.Install = names; return r }
	// The first alternative when nothing satisfies the group yet.
	want(t, resolveNames(t, u, req("a")), "a", "x")
	// Already satisfied by a marked package: a root marked before visiting.
	want(t, resolveNames(t, u, req("a", "y")), "a", "y")
	// Roots are visited in name order: a takes x before b adds y.
	want(t, resolveNames(t, u, req("a", "b")), "a", "b", "x", "y")
	// A missing first alternative is skipped.
	want(t, resolveNames(t, u, req("c")), "c", "y")
	// An uninstallable first alternative (its own dependency is missing)
	// is skipped.
	want(t, resolveNames(t, u, req("d")), "d", "y")
	// A first alternative that conflicts with the marked set is skipped.
	want(t, resolveNames(t, u, req("e", "b")), "b", "e", "y")
	want(t, resolveNames(t, u, req("e")), "clash", "e")
}

func TestVersionConstraints(t *testing.T) {
	u := universe(t, `
Package: lib
Version: 2.0-1

Package: lt
Depends: lib (<< 2.0-1)

Package: le
Depends: lib (<= 2.0-1)

Package: eq
Depends: lib (= 2.0-1)

Package: ge
Depends: lib (>= 2.0~rc1)

Package: gt
Depends: lib (>> 1:0)

Package: gt2
Depends: lib (>> 2.0-1)
`)
	for _, ok := range []string{"le", "eq", "ge"} {
		want(t, resolveNames(t, u, Request{Base: BaseNone, Install: []string{ok}}), ok, "lib")
	}
	for _, bad := range []string{"lt", "gt", "gt2"} {
		e := unsat(t, u, Request{Base: BaseNone, Install: []string{bad}})
		if !strings.Contains(e.Reason, "the mirror has lib 2.0-1") {
			t.Errorf("%s: %v", bad, e)
		}
	}
}

func TestProvides(t *testing.T) {
	u := universe(t, `
Package: mawk
Priority: required
Provides: awk

Package: gawk
Priority: optional
Provides: awk

Package: zawk
Priority: optional
Essential: yes
Provides: awk

Package: needs-awk
Depends: awk

Package: sysvinit-utils
Provides: lsb-base (= 11.1.0)

Package: lsb-base
Version: 11.6

Package: needs-lsb
Depends: lsb-base (>= 11.0.0)

Package: needs-lsb-new
Depends: lsb-base (>= 11.2)

Package: plain-provider
Provides: foo

Package: versioned-provider
Provides: foo (= 2)

Package: needs-foo2
Depends: foo (>= 2)

Package: needs-foo3
Depends: foo (>= 3)

Package: only-virtual
Depends: vonly

Package: p1
Provides: vonly, vtwo

Package: p2
Provides: vtwo
`)
	none := func(names ...string) Request { return Request{Base: BaseNone, Install: names} }
	// Essential beats Priority among providers.
	want(t, resolveNames(t, u, none("needs-awk")), "needs-awk", "zawk")
	// A versioned Provides already in the set satisfies a versioned
	// dependency: the real lsb-base is not installed.
	want(t, resolveNames(t, u, none("needs-lsb", "sysvinit-utils")), "needs-lsb", "sysvinit-utils")
	// The real package comes first when nothing satisfies yet.
	want(t, resolveNames(t, u, none("needs-lsb")), "lsb-base", "needs-lsb")
	want(t, resolveNames(t, u, none("needs-lsb-new", "sysvinit-utils")), "lsb-base", "needs-lsb-new", "sysvinit-utils")
	// A versioned dependency is satisfied only by a versioned Provides.
	want(t, resolveNames(t, u, none("needs-foo2")), "needs-foo2", "versioned-provider")
	want(t, resolveNames(t, u, none("needs-foo2", "plain-provider")), "needs-foo2", "plain-provider", "versioned-provider")
	unsat(t, u, none("needs-foo3"))
	// Purely virtual dependency.
	want(t, resolveNames(t, u, none("only-virtual")), "only-virtual", "p1")
	// A request for a virtual package with one provider selects it; with
	// several it is an error.
	want(t, resolveNames(t, u, none("vonly")), "p1")
	if e := unsat(t, u, none("vtwo")); !strings.Contains(e.Reason, "p1, p2") {
		t.Errorf("vtwo: %v", e)
	}
}

func TestMultiArch(t *testing.T) {
	u := universe(t, `
Package: python3
Multi-Arch: allowed
Provides: python3-any

Package: perl
Multi-Arch: foreign

Package: tool
Multi-Arch: foreign
Provides: toolish

Package: dep-any
Depends: python3:any (>= 1.0)

Package: dep-any-foreign
Depends: perl:any

Package: dep-any-virtual
Depends: python3-any:any

Package: dep-any-virtual-foreign
Depends: toolish:any

Package: dep-native
Depends: perl:native

Package: dep-amd64
Depends: perl:amd64

Package: dep-i386
Depends: perl:i386

Package: dep-restricted
Depends: perl [i386], python3 [amd64]

Package: shared
Architecture: all
Multi-Arch: foreign

Package: dep-all
Depends: shared:any | perl
`)
	none := func(names ...string) Request { return Request{Base: BaseNone, Install: names} }
	want(t, resolveNames(t, u, none("dep-any")), "dep-any", "python3")
	if e := unsat(t, u, none("dep-any-foreign")); !strings.Contains(e.Reason, "Multi-Arch: allowed") {
		t.Errorf("dep-any-foreign: %v", e)
	}
	want(t, resolveNames(t, u, none("dep-any-virtual")), "dep-any-virtual", "python3")
	unsat(t, u, none("dep-any-virtual-foreign"))
	want(t, resolveNames(t, u, none("dep-native")), "dep-native", "perl")
	want(t, resolveNames(t, u, none("dep-amd64")), "dep-amd64", "perl")
	unsat(t, u, none("dep-i386"))
	want(t, resolveNames(t, u, none("dep-restricted")), "dep-restricted", "python3")
	want(t, resolveNames(t, u, none("dep-all")), "dep-all", "perl")
}

func TestConflictsBreaks(t *testing.T) {
	u := universe(t, `
Package: exim
Provides: mta
Conflicts: mta

Package: postfix
Provides: mta
Conflicts: mta

Package: old-lib
Version: 1.0

Package: breaker
Breaks: old-lib (<< 2.0)

Package: tolerant
Breaks: old-lib (<< 1.0)

Package: wants-mta
Depends: mta

Package: no-mta
Conflicts: exim, postfix
`)
	none := func(names ...string) Request { return Request{Base: BaseNone, Install: names} }
	// A package conflicting with what it provides is fine alone.
	want(t, resolveNames(t, u, none("exim")), "exim")
	for _, names := range [][]string{{"exim", "postfix"}, {"breaker", "old-lib"}} {
		_, err := u.Resolve(none(names...))
		var ce *ConflictError
		if !errors.As(err, &ce) {
			t.Fatalf("%v: got %v, want a ConflictError", names, err)
		}
	}
	want(t, resolveNames(t, u, none("tolerant", "old-lib")), "old-lib", "tolerant")
	// A dependency whose only providers conflict with the set fails,
	// naming the chain.
	want(t, resolveNames(t, u, none("wants-mta", "exim")), "exim", "wants-mta")
	e := unsat(t, u, none("wants-mta", "no-mta"))
	if got := e.Error(); !strings.HasPrefix(got, "wants-mta → mta: ") || !strings.Contains(got, "is not installable: no-mta (1.0) has Conflicts: ") {
		t.Errorf("got %q", got)
	}
}

func TestPins(t *testing.T) {
	u := universe(t, `
Package: lib
Version: 1.0

Package: lib
Version: 2.0

Package: lib
Version: 1.5

Package: app
Version: 1
Depends: lib (>= 1.5)

Package: app
Version: 1
Depends: lib (>= 1.5)
`)
	if u.Len() != 4 || u.Skipped() != 1 {
		t.Errorf("Len %d Skipped %d, want 4 and 1 (a duplicate)", u.Len(), u.Skipped())
	}
	none := func(names ...string) Request { return Request{Base: BaseNone, Install: names} }
	want(t, versionsOf(t, u, none("app")), "app=1", "lib=2.0")
	want(t, versionsOf(t, u, none("app", "lib=1.5")), "app=1", "lib=1.5")
	e := unsat(t, u, none("app", "lib=1.0"))
	if got := e.Error(); got != "app → lib (>= 1.5): the mirror has lib 1.0" {
		t.Errorf("error %q", got)
	}
	if e := unsat(t, u, none("lib=3.0")); !strings.Contains(e.Reason, "2.0, 1.5, 1.0") {
		t.Errorf("lib=3.0: %v", e)
	}
}

func TestRecommends(t *testing.T) {
	u := universe(t, `
Package: app
Depends: lib
Recommends: extra, missing

Package: lib
Recommends: libextra

Package: extra

Package: libextra
`)
	want(t, resolveNames(t, u, Request{Base: BaseNone, Install: []string{"app"}}), "app", "lib")
	want(t, resolveNames(t, u, Request{Base: BaseNone, Install: []string{"app"}, Recommends: true}), "app", "extra", "lib", "libextra")
}

func TestErrorsNameTheChain(t *testing.T) {
	u := universe(t, `
Package: nginx
Depends: nginx-common, libssl3 (>= 3.0.9)

Package: nginx-common
Depends: lsb-base

Package: libssl3
Version: 3.0.8

Package: lsb-base
`)
	none := func(names ...string) Request { return Request{Base: BaseNone, Install: names} }
	e := unsat(t, u, none("nginx"))
	if got := e.Error(); got != "nginx → libssl3 (>= 3.0.9): the mirror has libssl3 3.0.8" {
		t.Errorf("got %q", got)
	}
	want(t, e.Chain, "nginx", "libssl3 (>= 3.0.9)")
	e = unsat(t, u, none("nginx-extras"))
	if got := e.Error(); got != "nginx-extras: not in the mirror" {
		t.Errorf("got %q", got)
	}
	u2 := universe(t, `
Package: nginx
Depends: nginx-common

Package: nginx-common
Depends: ucf (>= 2)
`)
	e = unsat(t, u2, none("nginx"))
	if got := e.Error(); got != "nginx → nginx-common → ucf (>= 2): not in the mirror" {
		t.Errorf("got %q", got)
	}
	if _, err := u.Resolve(none("bad name")); err == nil {
		t.Error("a malformed request is accepted")
	}
}

func TestDeterministic(t *testing.T) {
	ps, err := parseStanzas(strings.NewReader(withDefaults(baseUniverse + `

Package: app
Depends: awk, cyc-a

Package: cyc-a
Depends: cyc-b

Package: cyc-b
Pre-Depends: cyc-a
`)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		ps[i].Version, ps[i].Architecture = "1.0", "amd64"
	}
	var first, firstOrder []string
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 20; i++ {
		u, err := NewUniverse("amd64", ps)
		if err != nil {
			t.Fatal(err)
		}
		r, err := u.Resolve(Request{Install: []string{"app"}})
		if err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, p := range r.Order() {
			order = append(order, p.Name)
		}
		if i == 0 {
			first, firstOrder = r.Names(), order
		} else if !reflect.DeepEqual(first, r.Names()) || !reflect.DeepEqual(firstOrder, order) {
			t.Fatalf("run %d: %v / %v, first %v / %v", i, r.Names(), order, first, firstOrder)
		}
		// The input order of unrelated stanzas must not matter either
		// (stanzas of one name keep their relative order).
		rng.Shuffle(len(ps), func(a, b int) { ps[a], ps[b] = ps[b], ps[a] })
	}
}

func TestNewUniverse(t *testing.T) {
	u, err := NewUniverse("amd64", []Package{
		{Name: "a", Version: "1", Architecture: "amd64"},
		{Name: "b", Version: "1", Architecture: "i386"},
		{Name: "c", Version: "1", Architecture: "all"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Len() != 2 || u.Skipped() != 1 || u.Candidate("b") != nil {
		t.Errorf("Len %d Skipped %d", u.Len(), u.Skipped())
	}
	if _, err := NewUniverse("amd64", []Package{{Name: "a", Version: "", Architecture: "amd64"}}); err == nil {
		t.Error("a stanza without Version is accepted")
	}
	u, err = NewUniverse("amd64", []Package{{Name: "a", Version: "1", Architecture: "amd64", Depends: "b (>= "}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Resolve(Request{Base: BaseNone, Install: []string{"a"}}); err == nil || !strings.Contains(err.Error(), "Depends") {
		t.Errorf("malformed Depends: %v", err)
	}
}

func TestDisplaceAndSweep(t *testing.T) {
	u := universe(t, `
Package: app
Depends: snd-a | snd-b, later

Package: app-strict
Depends: snd-a, later

Package: snd-a
Depends: a-lib

Package: a-lib

Package: snd-b

Package: later
Depends: fan

Package: fan
Conflicts: snd-a
Depends: snd-b

Package: keeper
Suggests: a-lib
`)
	none := func(names ...string) Request { return Request{Base: BaseNone, Install: names} }
	// snd-a, chosen first for "snd-a | snd-b", gives way to fan, which
	// conflicts with it; a-lib, which only snd-a needed, is swept away,
	// as apt does.
	want(t, resolveNames(t, u, none("app")), "app", "fan", "later", "snd-b")
	// A Suggests keeps it (apt's SuggestsImportant default).
	want(t, resolveNames(t, u, none("app", "keeper")), "a-lib", "app", "fan", "keeper", "later", "snd-b")
	// The only solution of a root's dependency is protected: it is not
	// displaced, so fan cannot be installed.
	e := unsat(t, u, none("app-strict"))
	if !strings.HasPrefix(e.Error(), "app-strict → later → fan: fan (1.0) is not installable: it has Conflicts: snd-a") {
		t.Errorf("got %q", e)
	}
}
