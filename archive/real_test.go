package archive

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive/archivetest"
)

// The real tests talk only to the archive the host's apt sources name.

// hostSources returns the host's apt sources, or skips if there are none.
func hostSources(t *testing.T) []aptsources.Source {
	t.Helper()
	srcs, warns, err := aptsources.LoadSources("/")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warns {
		t.Logf("apt sources: %s", w)
	}
	if len(srcs) == 0 {
		t.Skip("no apt source configured on this host")
	}
	return srcs
}

// aptList returns the text of the list file apt keeps for uri's file path
// (dists/...), or nil if apt has none.
func aptList(t *testing.T, uri, path string) []byte {
	u, err := url.Parse(uri)
	if err != nil {
		return nil
	}
	name := strings.ReplaceAll(strings.Trim(u.Host+u.Path, "/")+"/"+path, "/", "_")
	matches, _ := filepath.Glob(filepath.Join("/var/lib/apt/lists", name+"*"))
	for _, m := range matches {
		if strings.HasSuffix(m, ".lz4") || strings.HasSuffix(m, ".gz") || strings.HasSuffix(m, ".xz") || m == filepath.Join("/var/lib/apt/lists", name) {
			out, err := exec.Command("/usr/lib/apt/apt-helper", "cat-file", m).Output()
			if err == nil {
				return out
			}
		}
	}
	return nil
}

// TestRealArchive fetches and verifies the InRelease and Packages of the
// host's first Debian source and checks them against what apt knows.
func TestRealArchive(t *testing.T) {
	srcs := hostSources(t)
	c := New()
	var rel *Release
	var src aptsources.Source
	for _, s := range srcs {
		r, err := c.Release(ctx, s, s.Suites[0])
		if err != nil {
			t.Fatalf("%s: %v", s.Origin, err)
		}
		if r.Origin == "Debian" {
			rel, src = r, s
			break
		}
		t.Logf("%s: Origin %q, not Debian; next", s.Origin, r.Origin)
	}
	if rel == nil {
		t.Skip("no Debian source among the host's apt sources")
	}
	t.Logf("%s: Codename %s, Date %s, signed by %+v (%d signatures verified)", rel.URL, rel.Codename, rel.Date, rel.Signer(), len(rel.Signers))
	if rel.Codename == "" || rel.Date.IsZero() || len(rel.Files) == 0 || rel.Signer().Fingerprint == "" {
		t.Errorf("Release: %+v", rel)
	}

	comp, arch := src.Components[0], src.Archs()[0]
	ix, err := c.Packages(ctx, rel, comp, arch)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d stanzas", ix.URL, len(ix.Packages))

	// Stanza count: against apt's own copy when it is the same index.
	plain := rel.Files[comp+"/binary-"+arch+"/Packages"]
	if list := aptList(t, rel.URI, "dists/"+rel.Dist+"/"+comp+"/binary-"+arch+"/Packages"); list == nil {
		t.Log("apt has no list for this index; stanza count not compared")
	} else if archivetest.SHA256(list) != plain.SHA256 {
		t.Log("apt's list is of another archive state (run apt-get update); stanza count not compared")
	} else if n := bytes.Count(list, []byte("\nPackage: ")) + 1; n != len(ix.Packages) {
		t.Errorf("%d stanzas, apt's list has %d", len(ix.Packages), n)
	}

	// One package's SHA256: against apt-cache show.
	var p *Package
	for i := range ix.Packages {
		if ix.Packages[i].Essential && ix.Packages[i].Name == "base-files" || p == nil && ix.Packages[i].Essential {
			p = &ix.Packages[i]
		}
	}
	if p == nil {
		t.Fatal("no Essential package in the index")
	}
	out, err := exec.Command("apt-cache", "show", p.Name).Output()
	if err != nil {
		t.Fatalf("apt-cache show %s: %v", p.Name, err)
	}
	recs, err := ReadPackages(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		if r.Version == p.Version && r.Architecture == p.Architecture {
			found = true
			if r.SHA256 != p.SHA256 || r.Size != p.Size || r.Filename != p.Filename {
				t.Errorf("%s: ours %s %d %s, apt-cache show %s %d %s", p.ID(), p.SHA256, p.Size, p.Filename, r.SHA256, r.Size, r.Filename)
			}
		}
	}
	if !found {
		t.Logf("apt-cache show %s has no version %s (apt's lists are of another archive state)", p.Name, p.Version)
	}

	// And its .deb, verified.
	dir := t.TempDir()
	dest := filepath.Join(dir, p.Name+".deb")
	if err := c.Fetch(ctx, p, dest); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Size() != p.Size {
		t.Errorf("fetched %v %v", fi, err)
	}
}

// TestRealMerge loads every host source as a mirror run would and checks
// that the merged version of a few packages is apt's candidate.
func TestRealMerge(t *testing.T) {
	srcs := hostSources(t)
	snap, err := New().Load(ctx, srcs, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snap.Skipped {
		t.Logf("skipped: %v", s)
	}
	merged, err := snap.Merge()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Package{}
	for _, p := range merged {
		if p.Architecture == aptsources.NativeArch() || p.Architecture == "all" {
			byName[p.Name] = p
		}
	}
	t.Logf("%d indexes, %d merged packages", len(snap.Indexes), len(merged))
	for _, name := range []string{"libc6", "libssl3", "tzdata", "openssh-server", "base-files"} {
		p := byName[name]
		out, err := exec.Command("apt-cache", "policy", name).Output()
		if err != nil || p == nil {
			t.Logf("%s: not compared (%v, in index: %v)", name, err, p != nil)
			continue
		}
		cand := ""
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Candidate: "); ok {
				cand = v
			}
		}
		if cand != p.Version {
			t.Errorf("%s: merged %s from %s, apt's candidate %s", name, p.Version, p.Release.Dist, cand)
		}
	}
}

// TestHostInReleaseOffline verifies the InRelease files apt downloaded
// against the default archive keyring, served from 127.0.0.1: the real
// multi-signature, RSA and EdDSA, path with no network.
func TestHostInReleaseOffline(t *testing.T) {
	if _, err := os.Stat(aptsources.DefaultKeyring); err != nil {
		t.Skip("no ", aptsources.DefaultKeyring)
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*_InRelease")
	if len(files) == 0 {
		t.Skip("apt has no InRelease under /var/lib/apt/lists")
	}
	a := newTestArchive(t)
	n := 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		i := strings.LastIndex(f, "_dists_")
		dist := strings.TrimSuffix(f[i+len("_dists_"):], "_InRelease")
		if strings.Contains(dist, "_") {
			continue
		}
		a.WriteFile("dists/"+dist+"/InRelease", data)
		src := aptsources.Source{URI: a.URL, Suites: []string{dist}, Components: []string{"main"}}
		rel, err := New().Release(ctx, src, dist)
		if err != nil {
			if strings.Contains(err.Error(), "not in keyring") {
				t.Logf("%s: %v (not signed by the default keyring)", f, err)
				continue
			}
			t.Errorf("%s: %v", f, err)
			continue
		}
		n++
		t.Logf("%s: %s signed by %d keys: %+v", dist, rel.Codename, len(rel.Signers), rel.Signers)
	}
	if n == 0 {
		t.Skip("no InRelease signed by the default keyring")
	}
}
