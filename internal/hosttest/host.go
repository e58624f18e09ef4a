// Package hosttest is test tooling shared by compose's and inspect's tests:
// a mirror index of the host's Packages lists (as a mirror run indexes
// them, without running `deb2fs mirror`) and a store of the layers of
// resolved package sets, kept in the fixtures cache (a layer is a pure
// function of its .deb, so a cached store is as good as a new one).
package hosttest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

var (
	hostOnce  sync.Once
	hostLists []*archive.Index
	hostIdx   *index.Index
	hostErr   error
)

// HostLists are apt's Packages lists, in apt's order (`apt-get
// indextargets`: the sources in order), each as the archive scanner reads
// it, every stanza in the list's order; the test is skipped when there are
// none. Resolving over them as they are is resolving over what apt reads.
func HostLists(t testing.TB) []*archive.Index {
	t.Helper()
	loadHost()
	if hostErr != nil {
		t.Skipf("host Packages indices unavailable (apt-get update first): %v", hostErr)
	}
	return hostLists
}

// HostIndex is an index of apt's lists, without layers, made as a mirror
// run with --all makes it: the lists merged (archive.Merge: the highest
// version of each name and architecture), sorted by name, each entry made
// by mirror.EntryIn with its name's place in the lists' order
// (mirror.ArchiveOrder). The test is skipped when there are no lists.
func HostIndex(t testing.TB) *index.Index {
	t.Helper()
	loadHost()
	if hostErr != nil {
		t.Skipf("host Packages indices unavailable (apt-get update first): %v", hostErr)
	}
	return hostIdx
}

func loadHost() {
	hostOnce.Do(func() {
		out, err := exec.Command("apt-get", "indextargets", "--format", "$(FILENAME)", "Identifier: Packages").Output()
		if err != nil {
			hostErr = err
			return
		}
		var lists []*archive.Index
		for _, f := range strings.Fields(string(out)) {
			if _, err := os.Stat(f); err != nil {
				continue
			}
			data, err := exec.Command("/usr/lib/apt/apt-helper", "cat-file", f).Output()
			if err != nil {
				hostErr = err
				return
			}
			ps, err := archive.ReadPackages(bytes.NewReader(data))
			if err != nil {
				hostErr = fmt.Errorf("%s: %w", f, err)
				return
			}
			if len(ps) > 0 {
				lists = append(lists, &archive.Index{URL: f, Packages: ps})
			}
		}
		if len(lists) == 0 {
			hostErr = os.ErrNotExist
			return
		}
		merged, err := archive.Merge(lists...)
		if err != nil {
			hostErr = err
			return
		}
		order := mirror.ArchiveOrder(lists...)
		idx := &index.Index{Format: index.FormatVersion, Packages: make([]index.Entry, 0, len(merged))}
		for _, p := range merged {
			idx.Packages = append(idx.Packages, mirror.EntryIn(p, order))
		}
		hostLists, hostIdx = lists, idx
	})
}

// CacheStore opens the store of converted layers kept in the fixtures
// cache (the one compose's tests use).
func CacheStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(fixtures.CacheDir(), "compose-store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// HostSet resolves req over the host's lists and makes sure every chosen
// package has its layer in s (fetching and converting what is missing);
// it returns the entries with their layers, sorted by name.
func HostSet(t testing.TB, s *store.Store, req resolve.Request) []index.Entry {
	t.Helper()
	es, err := HostIndex(t).Resolve(req, "")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for i, e := range es {
		l, ok, err := s.Lookup(convert.Key{DebSHA256: e.DebSHA256, Compression: convert.Gzip})
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			es[i].Layer = LayerOf(t, s, l)
		} else {
			missing = append(missing, e.Package)
		}
	}
	if len(missing) == 0 {
		return es
	}
	debs := fixtures.RealDebs(t, missing...)
	var jobs []convert.Job
	var at []int
	for i, e := range es {
		if es[i].Layer.Digest.Hex != "" {
			continue
		}
		jobs = append(jobs, convert.Job{Path: debs[e.Package], DebSHA256: e.DebSHA256})
		at = append(at, i)
	}
	for j, r := range convert.Batch(context.Background(), jobs, s, convert.BatchOptions{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		es[at[j]].Layer = LayerOf(t, s, r.Layer)
	}
	return es
}

// LayerOf is the index's view of a layer converted into s, with the
// digest of its package manifest.
func LayerOf(t testing.TB, s *store.Store, l *convert.Layer) index.Layer {
	t.Helper()
	rec, ok, err := s.LookupRecord(convert.Key{DebSHA256: l.DebSHA256, Compression: convert.Gzip})
	if err != nil || !ok {
		t.Fatalf("%s: no record in the store: %v", l.Package, err)
	}
	return mirror.LayerOf(rec)
}
