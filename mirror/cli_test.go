package mirror

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/store"
)

// runCLI runs `deb2fs mirror ... --json` and returns its exit status, the
// decoded summary and stderr.
func runCLI(t *testing.T, cmd *exec.Cmd, extra ...string) (int, map[string]any, string) {
	t.Helper()
	cmd.Args = append(cmd.Args, extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if out.Len() > 0 {
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("--json output: %v\n%s", err, out.Bytes())
		}
	}
	return code, sum, errb.String()
}

// TestMirrorCLI checks the exit statuses and the --json summary a cron job
// acts on: 0 published or up to date, 1 nothing published, 2 published
// without failed packages (--partial), 3 store busy.
func TestMirrorCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deb2fs binary")
	}
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	dir := filepath.Join(t.TempDir(), "store")

	code, sum, stderr := runCLI(t, a.mirrorCmd(t, dir, ""))
	if code != 0 || sum["published"] != true || sum["new"] != 4.0 || sum["bytesDownloaded"].(float64) == 0 || sum["store"] != dir {
		t.Fatalf("first run: exit %d, %v\n%s", code, sum, stderr)
	}
	code, sum, _ = runCLI(t, a.mirrorCmd(t, dir, ""))
	if code != 0 || sum["upToDate"] != true || sum["new"] != 0.0 {
		t.Errorf("rerun: exit %d, %v", code, sum)
	}

	// A tampered .deb: exit 1, nothing published, the error names it.
	updated := withVersion(basePkgs, "hello", "2.11-1")
	a.publish(updated, suiteOpts{})
	deb := filepath.Join(a.Root, "pool/main/h/hello/hello_2.11-1_amd64.deb")
	good, _ := os.ReadFile(deb)
	bad := bytes.Clone(good)
	bad[len(bad)-5] ^= 1
	os.WriteFile(deb, bad, 0o644)
	code, sum, stderr = runCLI(t, a.mirrorCmd(t, dir, ""))
	if code != 1 || sum["published"] != false || !strings.Contains(sum["error"].(string), "sha256 mismatch") ||
		!strings.Contains(stderr, "hello 2.11-1 amd64") {
		t.Errorf("tampered: exit %d, %v\n%s", code, sum, stderr)
	}

	// A missing .deb with --partial: exit 2, published without it.
	os.Remove(deb)
	code, sum, _ = runCLI(t, a.mirrorCmd(t, dir, ""), "--partial")
	if code != 2 || sum["published"] != true || sum["failed"] != 1.0 {
		t.Errorf("--partial: exit %d, %v", code, sum)
	}

	// Another run holds the store: exit 3 at once, with the holder named.
	os.WriteFile(deb, good, 0o644)
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := st.LockRun(ctx, false, false)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, a.mirrorCmd(t, dir, ""))
	unlock()
	if code != 3 || !strings.Contains(stderr, "in use by process") {
		t.Errorf("busy: exit %d\n%s", code, stderr)
	}
	code, sum, _ = runCLI(t, a.mirrorCmd(t, dir, ""))
	if code != 0 || sum["new"] != 1.0 || sum["published"] != true {
		t.Errorf("after repair: exit %d, %v", code, sum)
	}
}
