package resolve

import "sort"

// firstPackage is ordered before everything else: its preinst writes
// /etc/passwd and /etc/group, which other maintainer scripts need (chown
// root:root fails without them), and packages do not declare dependencies
// on it because it is Essential.
const firstPackage = "base-passwd"

// Order returns the packages in an order to run their maintainer scripts
// in: base-passwd first, then dependencies before their dependents
// (Pre-Depends and Depends edges), the base set and its closure before
// the packages only the request needs. Cycles are broken
// deterministically: inside a strongly connected component Pre-Depends
// edges are honoured first, then names decide. The order is a function of
// the set alone.
func (r *Result) Order() []*Package {
	idx := make(map[*node]int, len(r.nodes))
	for i, n := range r.nodes {
		idx[n] = i
	}
	pre := make([][]int, len(r.nodes))
	succ := make([][]int, len(r.nodes)) // dependencies of each node (pre + dep)
	for i, n := range r.nodes {
		p, d := r.edges(n)
		for _, x := range p {
			pre[i] = append(pre[i], idx[x])
			succ[i] = append(succ[i], idx[x])
		}
		for _, x := range d {
			succ[i] = append(succ[i], idx[x])
		}
		sort.Ints(succ[i])
	}

	// Rank: 0 base-passwd, 1 reachable from the base, 2 the rest.
	rank := make([]int, len(r.nodes))
	for i := range rank {
		rank[i] = 2
	}
	var stack []int
	for _, b := range r.Base {
		if n := r.s.sel[b.Name]; n != nil && rank[idx[n]] != 1 {
			rank[idx[n]] = 1
			stack = append(stack, idx[n])
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range succ[i] {
			if rank[j] != 1 {
				rank[j] = 1
				stack = append(stack, j)
			}
		}
	}
	first := -1
	if n := r.s.sel[firstPackage]; n != nil {
		first = idx[n]
		rank[first] = 0
	}

	comps := tarjan(len(r.nodes), func(i int) []int {
		if i == first {
			return nil
		}
		var out []int
		for _, j := range succ[i] {
			if j != first {
				out = append(out, j)
			}
		}
		return out
	})
	compOf := make([]int, len(r.nodes))
	for c, members := range comps {
		for _, i := range members {
			compOf[i] = c
		}
	}
	// Kahn over components: a component is ready once every component it
	// depends on is placed; pick the ready one with the lowest (rank,
	// first member index).
	key := func(c int) (int, int) {
		rk, m := 3, len(r.nodes)
		for _, i := range comps[c] {
			if rank[i] < rk {
				rk = rank[i]
			}
			if i < m {
				m = i
			}
		}
		return rk, m
	}
	waiting := make([]int, len(comps))
	users := make([][]int, len(comps))
	for i := range r.nodes {
		if i == first {
			continue
		}
		for _, j := range succ[i] {
			if j == first || compOf[j] == compOf[i] {
				continue
			}
			waiting[compOf[i]]++
			users[compOf[j]] = append(users[compOf[j]], compOf[i])
		}
	}
	var ready []int
	for c := range comps {
		if waiting[c] == 0 {
			ready = append(ready, c)
		}
	}
	out := make([]*Package, 0, len(r.nodes))
	placed := make([]bool, len(r.nodes))
	for len(ready) > 0 {
		best := 0
		for k := 1; k < len(ready); k++ {
			r1, m1 := key(ready[k])
			r0, m0 := key(ready[best])
			if r1 < r0 || (r1 == r0 && m1 < m0) {
				best = k
			}
		}
		c := ready[best]
		ready = append(ready[:best], ready[best+1:]...)
		for _, i := range orderComponent(comps[c], pre, succ, placed) {
			placed[i] = true
			out = append(out, r.nodes[i].pkg)
		}
		for _, u := range users[c] {
			waiting[u]--
			if waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out
}

// orderComponent orders the members of one strongly connected component.
// It repeatedly takes the lowest-index member all of whose dependencies in
// the component are placed; when a cycle blocks every member, the
// lowest-index one whose Pre-Depends are placed (only Depends edges are
// broken), or, for a Pre-Depends cycle, the lowest-index member.
func orderComponent(members []int, pre, succ [][]int, placed []bool) []int {
	if len(members) == 1 {
		return members
	}
	ms := append([]int(nil), members...)
	sort.Ints(ms)
	ready := func(i int, edges [][]int) bool {
		for _, j := range edges[i] {
			if !placed[j] {
				return false
			}
		}
		return true
	}
	out := make([]int, 0, len(ms))
	for len(out) < len(ms) {
		pick := -1
		for _, edges := range [][][]int{succ, pre, nil} {
			for _, i := range ms {
				if !placed[i] && (edges == nil || ready(i, edges)) {
					pick = i
					break
				}
			}
			if pick >= 0 {
				break
			}
		}
		placed[pick] = true
		out = append(out, pick)
	}
	return out
}

// tarjan returns the strongly connected components of the graph with
// nodes 0..n-1 and the given successors, each component's members sorted.
func tarjan(n int, next func(int) []int) [][]int {
	index := make([]int, n)
	low := make([]int, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int
	var comps [][]int
	counter := 0
	var visit func(v int)
	visit = func(v int) {
		index[v], low[v] = counter, counter
		counter++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range next(v) {
			if index[w] < 0 {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			sort.Ints(comp)
			comps = append(comps, comp)
		}
	}
	for v := 0; v < n; v++ {
		if index[v] < 0 {
			visit(v)
		}
	}
	return comps
}
