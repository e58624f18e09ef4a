package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// IDs is a sandbox's id mapping: sandbox uid and gid i (0 <= i < Count) is
// id Host+i in the caller's user namespace. Files of the root a sandbox
// runs over belong to these ids.
type IDs struct {
	Host  int
	Count int
}

// MinIDs is the fewest ids a sandbox maps: Debian's packages use ids up to
// 65534 (nobody).
const MinIDs = 65535

// maxIDs is the most a sandbox maps: uids 0 to 65535.
const maxIDs = 65536

// DefaultHost is the first host id of the sandbox in the initial user
// namespace when /etc/subuid and /etc/subgid give root no range: 2^31 -
// 65536, a range no account uses, below the ids some tools read as
// negative.
const DefaultHost = 1<<31 - maxIDs

// Shift maps a sandbox id to the caller's.
func (m IDs) Shift(id int) int { return m.Host + id }

// Unshift maps an id of the caller's back into the sandbox: ok is false
// for an id outside the mapping.
func (m IDs) Unshift(id int) (int, bool) {
	if id < m.Host || id >= m.Host+m.Count {
		return 0, false
	}
	return id - m.Host, true
}

// Key names the mapping in cache paths.
func (m IDs) Key() string { return fmt.Sprintf("%d-%d", m.Host, m.Count) }

// DefaultIDs picks the mapping for this process: in the initial user
// namespace (real root), root's subordinate range when /etc/subuid and
// /etc/subgid give it one, else DefaultHost; in a user namespace (compose
// re-executed without root, internal/userns), the namespace's ids from 1
// up, so that the sandbox's root is not the invoking user.
func DefaultIDs() (IDs, error) {
	uids, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return IDs{}, err
	}
	gids, err := os.ReadFile("/proc/self/gid_map")
	if err != nil {
		return IDs{}, err
	}
	if isIdentity(string(uids)) {
		if os.Geteuid() != 0 {
			return IDs{}, fmt.Errorf("the sandbox needs root or a user namespace (internal/userns)")
		}
		u, okU := subRange("/etc/subuid")
		g, okG := subRange("/etc/subgid")
		if okU && okG && u == g {
			return IDs{Host: u, Count: maxIDs}, nil
		}
		return IDs{Host: DefaultHost, Count: maxIDs}, nil
	}
	n := min(contiguousFrom1(string(uids)), contiguousFrom1(string(gids)), maxIDs)
	if n < MinIDs {
		return IDs{}, fmt.Errorf("the user namespace maps %d ids besides root, the sandbox needs %d (a larger /etc/subuid and /etc/subgid range)", n, MinIDs)
	}
	return IDs{Host: 1, Count: n}, nil
}

// isIdentity reports whether an id map is the initial namespace's.
func isIdentity(m string) bool {
	f := strings.Fields(m)
	return len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295"
}

// contiguousFrom1 is how many ids from 1 up an id map maps without a gap.
func contiguousFrom1(m string) int {
	type line struct{ in, n int }
	var ls []line
	sc := bufio.NewScanner(strings.NewReader(m))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 3 {
			continue
		}
		in, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.Atoi(f[2])
		if err1 == nil && err2 == nil {
			ls = append(ls, line{in, n})
		}
	}
	next := 1
	for grew := true; grew; {
		grew = false
		for _, l := range ls {
			if l.in <= next && next < l.in+l.n {
				next = l.in + l.n
				grew = true
			}
		}
	}
	return next - 1
}

// subRange is root's first subordinate range in file (NAME_OR_ID:START:COUNT)
// with room for the sandbox.
func subRange(file string) (int, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(data), "\n") {
		p := strings.Split(strings.TrimSpace(l), ":")
		if len(p) != 3 || (p[0] != "root" && p[0] != "0") {
			continue
		}
		start, err1 := strconv.Atoi(p[1])
		n, err2 := strconv.Atoi(p[2])
		if err1 == nil && err2 == nil && n >= maxIDs && start > 0 {
			return start, true
		}
	}
	return 0, false
}
