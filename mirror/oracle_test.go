package mirror_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/apttest"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
)

// TestOracleIndexResolve: Index.Resolve over an index of the host's apt
// lists made as a mirror run makes it (hosttest.HostIndex: merged, sorted
// by name, entries made by EntryIn with Suggests, Important and their
// place in the lists' order) gives exactly what `apt-get -s install` gives
// (names and versions), for requests where one of those decides the
// answer: on bookworm, the same index without it gives another set.
//
// The requests were found by resolving every package of bookworm alone
// over the index with and without the fields (docs/mirror.md):
//   - Important changes no answer; Suggests changes none of the 63,666
//     with --no-install-recommends and 32 with --install-recommends, and
//     the pair elogind collectd-core;
//   - without the order (Seq: the index's own order, by name, as in an
//     index of an older deb2fs), 421 answers change, and 545 with
//     --install-recommends (TestIndexOrderAllNames). All but one of the 421
//     come down to librust-ahash-0.7-dev against librust-ahash-dev
//     (librust-ruma-common-dev also to librust-criterion-0.3-dev against
//     librust-criterion-dev); wireguard gets another linux-image.
//
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
	noFields := &index.Index{Format: idx.Format, Packages: append([]index.Entry(nil), idx.Packages...)}
	noSeq := &index.Index{Format: idx.Format, Packages: append([]index.Entry(nil), idx.Packages...)}
	for i := range idx.Packages {
		noFields.Packages[i].Suggests, noFields.Packages[i].Important = "", false
		noSeq.Packages[i].Seq = 0
	}
	u, err := idx.Universe("")
	if err != nil {
		t.Fatal(err)
	}
	bookworm := false
	if p := u.Candidate("base-files"); p != nil && strings.HasPrefix(p.Version, "12.") {
		bookworm = true
	}
	const (
		fields = 1 << iota // on bookworm, the answer without Suggests and Important differs
		order              // on bookworm, the answer without Seq differs
	)
	for _, tc := range []struct {
		install    []string
		recommends bool
		matters    int
	}{
		// A request where none of them changes anything.
		{[]string{"nginx", "openssh-server"}, false, 0},
		// elogind's libelogind0 conflicts with libsystemd0, which the
		// essential set pulled in: libsystemd0 gives way, and what only it
		// needed is swept (liblz4-1), except libgcrypt20, which
		// collectd-core Suggests, and its libgpg-error0.
		{[]string{"elogind", "collectd-core"}, false, fields},
		// With Recommends: a package chosen for an OR-group gives way to
		// a conflicting one; what it pulled in stays where a Suggests
		// reaches it.
		{[]string{"ssvnc"}, true, fields},
		{[]string{"phosh"}, true, fields},
		// Equal providers, where apt takes the one whose name it read
		// last: librust-ahash-0.7-dev, whose stanza comes after
		// librust-ahash-dev's in the Packages file (by name, it would
		// come first).
		{[]string{"librust-anyhow-dev"}, false, order},
		// The same, and librust-criterion-0.3-dev for librust-criterion-dev.
		{[]string{"librust-ruma-common-dev"}, false, order},
		// wireguard-modules: linux-image-6.12-rt-amd64, only in
		// bookworm-security, so read after every name of bookworm; by
		// name, linux-image-rt-amd64 would come last.
		{[]string{"wireguard"}, false, order},
		// With Recommends: avahi-ui-utils' vnc-viewer is tightvnc-java,
		// whose stanza follows xtightvncviewer's (not xtightvncviewer and
		// the X libraries it needs); bmagic's c++-compiler is clang-22,
		// only in bookworm-security, and its closure.
		{[]string{"avahi-ui-utils"}, true, order},
		{[]string{"bmagic"}, true, order},
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
			apt, err := apttest.Installs(t, u.Arch(), append(u.BaseNames(req.Base), tc.install...), tc.recommends)
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
			t.Logf("apt %d, index.Index.Resolve %d", len(apt), len(es))
			if len(onlyApt)+len(onlyUs)+len(versions) > 0 {
				t.Errorf("Index.Resolve disagrees with apt:\n only apt: %v\n only index.Index.Resolve: %v\n versions: %v", onlyApt, onlyUs, versions)
			}
			for _, w := range []struct {
				what string
				bit  int
				ix   *index.Index
			}{{"Suggests and Important", fields, noFields}, {"Seq", order, noSeq}} {
				without, err := w.ix.Resolve(req, "")
				if err != nil {
					t.Fatalf("without %s: %v", w.what, err)
				}
				kept := map[string]string{}
				for _, e := range without {
					kept[e.Package] = e.Version
				}
				var lost, gained []string
				for _, e := range es {
					if _, ok := kept[e.Package]; !ok {
						lost = append(lost, e.Package)
					}
					delete(kept, e.Package)
				}
				for n := range kept {
					gained = append(gained, n)
				}
				sort.Strings(gained)
				differs := len(lost)+len(gained) > 0
				if differs {
					t.Logf("without %s: %d packages, missing %v, more %v", w.what, len(without), lost, gained)
				}
				if want := tc.matters&w.bit != 0; bookworm && differs != want {
					t.Errorf("on bookworm, the answer without %s differs: %v, want %v", w.what, differs, want)
				}
			}
		})
	}
}

// TestIndexOrderAllNames (only with DEB2FS_INDEX_ORDER_ALL=1; with
// DEB2FS_ORACLE_RECOMMENDS=1, requests with Recommends) resolves every
// package of the host's lists alone, on the minimal base, three ways:
// over the lists as they are (the order apt reads them in), over the index
// a mirror run makes of them (hosttest.HostIndex: sorted by name, entries
// with Seq) as Index.Resolve does, and over the same index without Seq (an
// index of an older deb2fs: the name order). It counts the requests whose
// answer (names and versions, or the error) differs from the lists' and
// fails if the index's does. Several minutes on 2 CPUs.
func TestIndexOrderAllNames(t *testing.T) {
	if os.Getenv("DEB2FS_INDEX_ORDER_ALL") != "1" {
		t.Skip("resolves every package of the host's lists three times: DEB2FS_INDEX_ORDER_ALL=1")
	}
	recommends := os.Getenv("DEB2FS_ORACLE_RECOMMENDS") == "1"
	lists := hosttest.HostLists(t)
	idx := hosttest.HostIndex(t)
	arch := index.NativeArch(idx.Packages)
	var raw []resolve.Package
	for _, l := range lists {
		for i := range l.Packages {
			e := mirror.EntryOf(&l.Packages[i])
			raw = append(raw, e.ResolvePackage())
		}
	}
	uLists, err := resolve.NewUniverse(arch, raw)
	if err != nil {
		t.Fatal(err)
	}
	uIndex, err := idx.Universe(arch)
	if err != nil {
		t.Fatal(err)
	}
	noSeq := &index.Index{Format: idx.Format, Packages: append([]index.Entry(nil), idx.Packages...)}
	for i := range noSeq.Packages {
		noSeq.Packages[i].Seq = 0
	}
	uSorted, err := noSeq.Universe(arch)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	seen := map[string]bool{}
	for _, e := range idx.Packages {
		if (e.Architecture == arch || e.Architecture == "all") && !seen[e.Package] {
			seen[e.Package] = true
			names = append(names, e.Package)
		}
	}
	answer := func(u *resolve.Universe, name string) string {
		r, err := u.Resolve(resolve.Request{Install: []string{name}, Recommends: recommends})
		if err != nil {
			return "error: " + err.Error()
		}
		var b strings.Builder
		for _, p := range r.Packages {
			fmt.Fprintf(&b, "%s=%s ", p.Name, p.Version)
		}
		return b.String()
	}
	var mu sync.Mutex
	var diffIndex, diffSorted []string
	work := make(chan string)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				l, i, s := answer(uLists, name), answer(uIndex, name), answer(uSorted, name)
				mu.Lock()
				if i != l {
					diffIndex = append(diffIndex, name)
				}
				if s != l {
					diffSorted = append(diffSorted, name)
				}
				mu.Unlock()
			}
		}()
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	sort.Strings(diffIndex)
	sort.Strings(diffSorted)
	first := func(s []string) []string { return s[:min(len(s), 40)] }
	t.Logf("%d requests (recommends %v): %d differ from the lists over the index without Seq (%v), %d over the index",
		len(names), recommends, len(diffSorted), first(diffSorted), len(diffIndex))
	if len(diffIndex) > 0 {
		t.Errorf("Index.Resolve differs from resolve over the lists for %d requests: %v", len(diffIndex), first(diffIndex))
	}
}
