package resolve

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/deb2fs/deb2fs/archive"
)

// parseStanzas reads a Packages index into Packages with the archive
// client's scanner, the one the mirror uses, so the oracle tests resolve
// over exactly what a mirror index holds.
func parseStanzas(r io.Reader) ([]Package, error) {
	ps, err := archive.ReadPackages(r)
	if err != nil {
		return nil, err
	}
	out := make([]Package, len(ps))
	for i, p := range ps {
		out[i] = Package{
			Name: p.Name, Version: p.Version, Architecture: p.Architecture, MultiArch: p.MultiArch,
			Priority: p.Priority, Source: p.Source, Essential: p.Essential, Important: p.Important,
			Depends: p.Depends, PreDepends: p.PreDepends, Recommends: p.Recommends, Suggests: p.Suggests,
			Provides: p.Provides, Conflicts: p.Conflicts, Breaks: p.Breaks, Replaces: p.Replaces,
		}
	}
	return out, nil
}

// hostIndex is the host's merged Packages indices as apt sees them.
type hostIndex struct {
	arch  string
	files []string
	pkgs  []Package
}

var (
	hostOnce sync.Once
	host     *hostIndex
	hostErr  error
)

// loadHost reads the Packages indices apt uses (apt-get indextargets),
// decompressing them with apt-helper. Needs the Debian packages apt and
// dpkg, and a prior apt-get update.
func loadHost() (*hostIndex, error) {
	hostOnce.Do(func() {
		arch, err := exec.Command("dpkg", "--print-architecture").Output()
		if err != nil {
			hostErr = fmt.Errorf("dpkg --print-architecture: %w", err)
			return
		}
		h := &hostIndex{arch: strings.TrimSpace(string(arch))}
		out, err := exec.Command("apt-get", "indextargets", "--format", "$(FILENAME)", "Identifier: Packages").Output()
		if err != nil {
			hostErr = fmt.Errorf("apt-get indextargets: %w", err)
			return
		}
		for _, f := range strings.Fields(string(out)) {
			if _, err := os.Stat(f); err != nil {
				continue
			}
			data, err := exec.Command("/usr/lib/apt/apt-helper", "cat-file", f).Output()
			if err != nil {
				hostErr = fmt.Errorf("apt-helper cat-file %s: %w", f, err)
				return
			}
			ps, err := parseStanzas(bytes.NewReader(data))
			if err != nil {
				hostErr = fmt.Errorf("%s: %w", f, err)
				return
			}
			h.files = append(h.files, f)
			h.pkgs = append(h.pkgs, ps...)
		}
		if len(h.pkgs) == 0 {
			hostErr = fmt.Errorf("no Packages index in apt's lists (run apt-get update)")
			return
		}
		host = h
	})
	return host, hostErr
}

// needHost returns the host index or skips the test; with
// DEB2FS_REQUIRE_ORACLE=1 in the environment it fails instead.
func needHost(tb testing.TB) *hostIndex {
	tb.Helper()
	h, err := loadHost()
	if err != nil {
		if os.Getenv("DEB2FS_REQUIRE_ORACLE") == "1" {
			tb.Fatalf("host Packages indices: %v", err)
		}
		tb.Skipf("host Packages indices unavailable: %v", err)
	}
	return h
}
