package inspect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/inspect"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("compose needs root: namespaces, chroot, file ownership")
	}
}

// lookSyft finds syft in PATH or in GOPATH/bin (`go install
// github.com/anchore/syft/cmd/syft@v1.42.0`).
func lookSyft(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("syft"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "syft")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("syft is not installed (go install github.com/anchore/syft/cmd/syft@v1.42.0)")
	return ""
}

// The acceptance test of issue 6: syft, reading the layers of the
// composed nginx+openssh-server image (the merged status file and the
// status.d fragments), lists exactly the Debian packages, versions and
// architectures inspect reads from the manifest and config alone.
func TestSyftAgreesWithInspect(t *testing.T) {
	needRoot(t)
	syft := lookSyft(t)
	st := hosttest.CacheStore(t)
	es := hosttest.HostSet(t, st, resolve.Request{Install: []string{"nginx", "openssh-server"}})
	idx := &index.Index{Format: index.FormatVersion, Packages: es}
	// With compose's layer budget and with one of 40, which merges the
	// essential set and runs of packages into group layers.
	for _, max := range []int{0, 40} {
		t.Run(fmt.Sprintf("max-layers-%d", max), func(t *testing.T) { syftAgrees(t, syft, st, idx, max) })
	}
}

// syftAgrees composes the request of idx with a layer budget and
// compares syft's packages and purls with inspect's.
func syftAgrees(t *testing.T, syft string, st *store.Store, idx *index.Index, max int) {
	out := t.TempDir()
	if _, err := compose.Compose(context.Background(), compose.Options{Index: idx, MaxLayers: max,
		Request: resolve.Request{Install: []string{"nginx", "openssh-server"}}, Store: st,
		Output: output.Layout{Dir: out, Tag: "web"}}); err != nil {
		t.Fatal(err)
	}
	cat := &inspect.Catalog{}
	for _, e := range idx.Packages {
		cat.Add(e.Package, e.Version, e.Architecture, e.Source, e.DebSHA256)
	}
	im, err := (&inspect.Opener{Catalog: cat}).Open(context.Background(), "oci:"+out+":web")
	if err != nil {
		t.Fatal(err)
	}
	groups := 0
	var mine []string
	for _, p := range im.Packages {
		mine = append(mine, p.Name+" "+p.Version+" "+p.Architecture)
		if p.Group != "" {
			groups++
		}
	}
	sort.Strings(mine)

	cmd := exec.Command(syft, "-q", "oci-dir:"+out, "-o", "json")
	cmd.Env = append(os.Environ(), "SYFT_CHECK_FOR_APP_UPDATE=false")
	data, err := cmd.Output()
	if err != nil {
		t.Fatalf("syft: %v", err)
	}
	var doc struct {
		Artifacts []struct {
			Name, Version, Type, PURL string
			Metadata                  struct{ Architecture string }
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var theirs []string
	purls := map[string]string{}
	for _, a := range doc.Artifacts {
		if a.Type != "deb" {
			continue
		}
		theirs = append(theirs, a.Name+" "+a.Version+" "+a.Metadata.Architecture)
		purls[a.Name] = a.PURL
	}
	sort.Strings(theirs)
	t.Logf("%d packages (%d in group layers); syft finds %d deb packages", len(mine), groups, len(theirs))
	if strings.Join(mine, "\n") != strings.Join(theirs, "\n") {
		t.Errorf("inspect and syft disagree:\ninspect only: %v\nsyft only: %v", minus(mine, theirs), minus(theirs, mine))
	}
	// Our purls are syft's without its distro qualifier.
	for _, p := range im.Packages {
		want := inspect.PURL(&p)
		if got := purls[p.Name]; got != "" && !strings.HasPrefix(got, want) {
			t.Errorf("%s: purl %s, syft %s", p.Name, want, got)
		}
	}
}

// minus returns the items of a not in b.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}
