package compose

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// aptInstalls asks apt which packages `apt-get install
// --no-install-recommends NAMES...` installs on an empty system, in
// simulation, with a scratch dpkg status and scratch state and cache
// directories: it reads the host's lists and writes nothing else. It
// returns "name version" lines, sorted.
func aptInstalls(t *testing.T, names []string) []string {
	t.Helper()
	dir := t.TempDir()
	status := filepath.Join(dir, "status")
	os.WriteFile(status, nil, 0o644)
	os.Mkdir(filepath.Join(dir, "cache"), 0o755)
	os.Mkdir(filepath.Join(dir, "prefs"), 0o755)
	args := []string{
		"-s", "-q", "-y",
		"-o", "Debug::NoLocking=1",
		"-o", "Dir::State::status=" + status,
		"-o", "Dir::State::extended_states=" + filepath.Join(dir, "extended_states"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
		"-o", "Dir::Etc::preferences=" + filepath.Join(dir, "prefs", "none"),
		"-o", "Dir::Etc::preferencesparts=" + filepath.Join(dir, "prefs"),
		"-o", "APT::Install-Recommends=false", "-o", "APT::Install-Suggests=false",
		"install",
	}
	cmd := exec.Command("apt-get", append(args, names...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("apt-get -s: %v\n%s", err, out)
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "Inst" {
			got = append(got, f[1]+" "+strings.TrimPrefix(f[2], "("))
		}
	}
	sort.Strings(got)
	return got
}
