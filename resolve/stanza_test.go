package resolve

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// parseStanzas reads a Packages index into Packages. It stands in for the
// archive client, which lives elsewhere; it keeps only the fields the
// resolver reads.
func parseStanzas(r io.Reader) ([]Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	var out []Package
	var cur Package
	var field *string
	have := false
	flush := func() {
		if have {
			out = append(out, cur)
		}
		cur, field, have = Package{}, nil, false
	}
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if field != nil {
				*field += " " + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("bad line %q", line)
		}
		v = strings.TrimSpace(v)
		have = true
		field = nil
		switch k {
		case "Package":
			cur.Name = v
		case "Version":
			cur.Version = v
		case "Architecture":
			cur.Architecture = v
		case "Multi-Arch":
			cur.MultiArch = v
		case "Priority":
			cur.Priority = v
		case "Source":
			cur.Source = v
		case "Essential":
			cur.Essential = v == "yes"
		case "Important", "Protected":
			cur.Important = cur.Important || v == "yes"
		case "Depends":
			cur.Depends, field = v, &cur.Depends
		case "Pre-Depends":
			cur.PreDepends, field = v, &cur.PreDepends
		case "Recommends":
			cur.Recommends, field = v, &cur.Recommends
		case "Suggests":
			cur.Suggests, field = v, &cur.Suggests
		case "Provides":
			cur.Provides, field = v, &cur.Provides
		case "Conflicts":
			cur.Conflicts, field = v, &cur.Conflicts
		case "Breaks":
			cur.Breaks, field = v, &cur.Breaks
		case "Replaces":
			cur.Replaces, field = v, &cur.Replaces
		}
	}
	flush()
	return out, sc.Err()
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
