package mirror_test

import (
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
)

// TestOracleIndexResolve: Index.Resolve over an index of the host's apt
// lists (hosttest.HostIndex: entries made by EntryOf, as a mirror run
// makes them) gives exactly what `apt-get -s install` gives (names and
// versions), for requests where Suggests or Important decides the answer:
// on bookworm, the same index without them gives another set. The requests
// were found by resolving every package of bookworm alone over the index
// with and without the two fields (docs/mirror.md): Important changes no
// answer; Suggests changes none of the 63,666 with --no-install-recommends
// and 32 with --install-recommends, and the pair elogind collectd-core.
// Skipped without the host's lists (apt-get update) or apt-get, and with
// -short.
func TestOracleIndexResolve(t *testing.T) {
	if testing.Short() {
		t.Skip("runs apt-get -s on the host's lists")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get")
	}
	idx := hosttest.HostIndex(t)
	stripped := &mirror.Index{Format: idx.Format, Packages: append([]mirror.Entry(nil), idx.Packages...)}
	for i := range stripped.Packages {
		stripped.Packages[i].Suggests, stripped.Packages[i].Important = "", false
	}
	u, err := idx.Universe("")
	if err != nil {
		t.Fatal(err)
	}
	bookworm := false
	if p := u.Candidate("base-files"); p != nil && strings.HasPrefix(p.Version, "12.") {
		bookworm = true
	}
	for _, tc := range []struct {
		install    []string
		recommends bool
		matters    bool // on bookworm, the answer without Suggests and Important differs
	}{
		// A request where they change nothing.
		{[]string{"nginx", "openssh-server"}, false, false},
		// elogind's libelogind0 conflicts with libsystemd0, which the
		// essential set pulled in: libsystemd0 gives way, and what only it
		// needed is swept (liblz4-1), except libgcrypt20, which
		// collectd-core Suggests, and its libgpg-error0.
		{[]string{"elogind", "collectd-core"}, false, true},
		// With Recommends: a package chosen for an OR-group gives way to
		// a conflicting one; what it pulled in stays where a Suggests
		// reaches it.
		{[]string{"ssvnc"}, true, true},
		{[]string{"phosh"}, true, true},
	} {
		name := strings.Join(tc.install, "+")
		if tc.recommends {
			name += " recommends"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := resolve.Request{Install: tc.install, Recommends: tc.recommends}
			es, err := idx.Resolve(req, "")
			if err != nil {
				t.Fatal(err)
			}
			apt, err := hosttest.AptInstalls(t, u.Arch(), append(u.BaseNames(req.Base), tc.install...), tc.recommends)
			if err != nil {
				t.Fatal(err)
			}
			var onlyApt, onlyUs, versions []string
			ours := map[string]bool{}
			for _, e := range es {
				ours[e.Package] = true
				if v, ok := apt[e.Package]; !ok {
					onlyUs = append(onlyUs, e.Package)
				} else if v != e.Version {
					versions = append(versions, e.Package+" apt="+v+" index="+e.Version)
				}
			}
			for n := range apt {
				if !ours[n] {
					onlyApt = append(onlyApt, n)
				}
			}
			sort.Strings(onlyApt)
			t.Logf("apt %d, Index.Resolve %d", len(apt), len(es))
			if len(onlyApt)+len(onlyUs)+len(versions) > 0 {
				t.Errorf("Index.Resolve disagrees with apt:\n only apt: %v\n only Index.Resolve: %v\n versions: %v", onlyApt, onlyUs, versions)
			}
			without, err := stripped.Resolve(req, "")
			if err != nil {
				t.Fatalf("without Suggests and Important: %v", err)
			}
			var lost []string
			kept := map[string]bool{}
			for _, e := range without {
				kept[e.Package] = true
			}
			for _, e := range es {
				if !kept[e.Package] {
					lost = append(lost, e.Package)
				}
			}
			if len(lost) > 0 || len(without) != len(es) {
				t.Logf("without Suggests and Important: %d packages, missing %v", len(without), lost)
			}
			if differs := len(lost) > 0 || len(without) != len(es); bookworm && differs != tc.matters {
				t.Errorf("on bookworm, the answer without Suggests and Important differs: %v, want %v", differs, tc.matters)
			}
		})
	}
}
