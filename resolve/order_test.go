package resolve

import (
	"testing"
)

func orderNames(r *Result) []string {
	var out []string
	for _, p := range r.Order() {
		out = append(out, p.Name)
	}
	return out
}

// checkOrder verifies that every dependency edge points backwards in the
// order, except edges inside a cycle, and that base-passwd comes first.
func checkOrder(t *testing.T, r *Result) {
	t.Helper()
	order := r.Order()
	if len(order) != len(r.Packages) {
		t.Fatalf("order has %d packages, the set %d", len(order), len(r.Packages))
	}
	pos := map[string]int{}
	for i, p := range order {
		pos[p.Name] = i
	}
	if p, ok := pos[firstPackage]; ok && p != 0 {
		t.Errorf("base-passwd at position %d", p)
	}
	// reach tells whether b reaches a (a cycle makes a backward edge fine).
	reach := func(from, to *Package) bool {
		seen := map[*Package]bool{}
		stack := []*Package{from}
		for len(stack) > 0 {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if x == to {
				return true
			}
			if seen[x] {
				continue
			}
			seen[x] = true
			pre, dep := r.DependsOn(x)
			stack = append(append(stack, pre...), dep...)
		}
		return false
	}
	for _, p := range order {
		pre, dep := r.DependsOn(p)
		for _, d := range append(pre, dep...) {
			if d.Name == firstPackage || p.Name == firstPackage {
				continue
			}
			if pos[d.Name] > pos[p.Name] && !reach(d, p) {
				t.Errorf("%s comes before its dependency %s", p.Name, d.Name)
			}
		}
	}
}

func TestOrder(t *testing.T) {
	u := universe(t, `
Package: libc6

Package: base-passwd
Essential: yes
Depends: libc6

Package: base-files
Essential: yes

Package: bash
Essential: yes
Depends: base-files, libc6

Package: app
Depends: zlib, cyc-b

Package: zlib
Depends: libc6

Package: cyc-a
Depends: cyc-b

Package: cyc-b
Depends: cyc-c

Package: cyc-c
Pre-Depends: cyc-a
`)
	r, err := u.Resolve(Request{Base: BaseEssential, Install: []string{"app"}})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, r)
	// base-passwd first, the base closure next, then the request; the
	// cycle cyc-a → cyc-b → cyc-c → (pre) cyc-a starts with cyc-a, which
	// cyc-c pre-depends on.
	want(t, orderNames(r), "base-passwd", "base-files", "libc6", "bash", "cyc-a", "cyc-c", "cyc-b", "zlib", "app")
}

func TestOracleOrder(t *testing.T) {
	u := needHostUniverse(t)
	r, err := u.Resolve(Request{Install: []string{"nginx", "openssh-server"}})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, r)
	order := orderNames(r)
	t.Logf("order: %v", order)
}
