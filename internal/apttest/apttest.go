// Package apttest asks apt itself, as a test oracle, which packages an
// install would bring onto an empty system (docs/resolve.md, "apt as the
// oracle"). It depends on nothing of deb2fs, so every package's tests can
// use it.
package apttest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Installs asks apt which packages `apt-get install NAMES...` installs on
// an empty system (name -> version), with Recommends followed or not:
// apt-get -s with a scratch dpkg status, scratch state, cache and
// preferences, only the architecture arch ("" for the host's), and none
// of the host's apt.conf.d (a container's snippets change what apt
// sweeps), so apt's compiled-in defaults apply. It reads the host's
// sources and lists and writes nothing outside a temporary directory.
func Installs(tb testing.TB, arch string, names []string, recommends bool) (map[string]string, error) {
	tb.Helper()
	dir := tb.TempDir()
	status := filepath.Join(dir, "status")
	if err := os.WriteFile(status, nil, 0o644); err != nil {
		return nil, err
	}
	for _, d := range []string{"cache", "prefs", "parts"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(dir, "apt.conf")
	if err := os.WriteFile(conf, []byte("Dir::Etc::parts \""+filepath.Join(dir, "parts")+"\";\nDir::Etc::main \""+filepath.Join(dir, "none")+"\";\n"), 0o644); err != nil {
		return nil, err
	}
	args := []string{
		"-s", "-q", "-y",
		"-o", "Debug::NoLocking=1",
		"-o", "Dir::State::status=" + status,
		"-o", "Dir::State::extended_states=" + filepath.Join(dir, "extended_states"),
		"-o", "Dir::Cache=" + filepath.Join(dir, "cache"),
		"-o", "Dir::Cache::pkgcache=",
		"-o", "Dir::Cache::srcpkgcache=",
		"-o", "Dir::Etc::preferences=" + filepath.Join(dir, "prefs", "none"),
		"-o", "Dir::Etc::preferencesparts=" + filepath.Join(dir, "prefs"),
		"-o", "APT::Install-Recommends=" + strconv.FormatBool(recommends),
		"-o", "APT::Install-Suggests=false",
	}
	if arch != "" {
		args = append(args, "-o", "APT::Architecture="+arch, "-o", "APT::Architectures::="+arch)
	}
	args = append(args, "install")
	cmd := exec.Command("apt-get", append(args, names...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "APT_CONFIG="+conf)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("apt-get: %v\n%s", err, out)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == "Inst" {
			got[f[1]] = strings.TrimPrefix(f[2], "(")
		}
	}
	return got, nil
}
