package compose

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/deb2fs/deb2fs/archive"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// Until `deb2fs mirror` publishes an index, the tests make their own: the
// host's Packages indices (as apt sees them) resolved with ResolveIndex,
// the chosen .debs fetched with fixtures.RealDebs and converted into a
// store kept in the fixtures cache (layers are a pure function of the
// .debs, so a cached store is as good as a new one).

var (
	hostOnce sync.Once
	hostIdx  *mirror.Index
	hostErr  error
)

// hostIndex is an index of every package in apt's lists, without layers.
func hostIndex(t testing.TB) *mirror.Index {
	t.Helper()
	hostOnce.Do(func() {
		out, err := exec.Command("apt-get", "indextargets", "--format", "$(FILENAME)", "Identifier: Packages").Output()
		if err != nil {
			hostErr = err
			return
		}
		idx := &mirror.Index{Format: mirror.IndexFormat}
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
				hostErr = err
				return
			}
			for _, p := range ps {
				idx.Packages = append(idx.Packages, mirror.Entry{
					Package: p.Name, Version: p.Version, Architecture: p.Architecture, MultiArch: p.MultiArch,
					Essential: p.Essential, Priority: p.Priority, Section: p.Section, Source: p.Source,
					Depends: p.Depends, PreDepends: p.PreDepends, Provides: p.Provides, Conflicts: p.Conflicts,
					Breaks: p.Breaks, Replaces: p.Replaces, Recommends: p.Recommends, InstalledSize: p.InstalledSize,
					Filename: p.Filename, DebSize: p.Size, DebSHA256: p.SHA256,
				})
			}
		}
		if len(idx.Packages) == 0 {
			hostErr = os.ErrNotExist
			return
		}
		hostIdx = idx
	})
	if hostErr != nil {
		t.Skipf("host Packages indices unavailable (apt-get update first): %v", hostErr)
	}
	return hostIdx
}

// testStore opens the store of converted layers kept in the fixtures cache.
func testStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(filepath.Join(fixtures.CacheDir(), "compose-store"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hostSet resolves req over the host's lists and makes sure every chosen
// package has its layer in s; it returns the entries with their layers.
func hostSet(t testing.TB, s *store.Store, req resolve.Request) []mirror.Entry {
	t.Helper()
	idx := hostIndex(t)
	es, err := ResolveIndex(idx, req, "")
	if err != nil {
		t.Fatal(err)
	}
	// Layers already in the store need no .deb: fetching asks apt-cache
	// once per package, which is most of the time of a warm run.
	var missing []string
	for i, e := range es {
		l, ok, err := s.Lookup(convert.Key{DebSHA256: e.DebSHA256, Compression: convert.Gzip})
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			es[i].Layer = mirror.Layer{Digest: l.Digest, DiffID: l.DiffID, Size: l.Size, MediaType: l.MediaType}
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
		if !strings.Contains(filepath.Base(debs[e.Package]), "_"+strings.ReplaceAll(e.Version, ":", "%3a")+"_") {
			t.Fatalf("%s: apt's candidate %s is not the resolved version %s", e.Package, debs[e.Package], e.Version)
		}
		jobs = append(jobs, convert.Job{Path: debs[e.Package], DebSHA256: e.DebSHA256})
		at = append(at, i)
	}
	for j, r := range convert.Batch(context.Background(), jobs, s, convert.BatchOptions{}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		es[at[j]].Layer = mirror.Layer{Digest: r.Layer.Digest, DiffID: r.Layer.DiffID, Size: r.Layer.Size, MediaType: r.Layer.MediaType}
	}
	return es
}

// hostUniverseBase names the minimal base resolve uses on the host's lists.
func hostUniverseBase(t testing.TB) []string {
	t.Helper()
	idx := hostIndex(t)
	pkgs := make([]resolve.Package, len(idx.Packages))
	for i := range idx.Packages {
		pkgs[i] = toPackage(&idx.Packages[i])
	}
	u, err := resolve.NewUniverse(nativeArch(idx.Packages), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	return u.BaseNames(resolve.BaseMinimal)
}
