package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/fixtures"
)

var deb2fs string // the built binary

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deb2fs-cli-")
	if err != nil {
		panic(err)
	}
	deb2fs = filepath.Join(dir, "deb2fs")
	if out, err := exec.Command("go", "build", "-o", deb2fs, "../../cmd/deb2fs").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(deb2fs, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

// TestConvertCommand runs `deb2fs convert` on real packages and a corrupt
// one: the good ones are printed (name, version, architecture, digest,
// size), the bad one is named on stderr, the exit status is 1, and a second
// run converts nothing. Standard tools then read the store: tar lists a
// layer, skopeo inspects and umoci unpacks a package image.
func TestConvertCommand(t *testing.T) {
	debs := fixtures.RealDebs(t, "nginx-common", "libssl3")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.deb")
	os.WriteFile(bad, []byte("!<arch>\nnot really\n"), 0o644)
	st := filepath.Join(dir, "store")
	args := []string{"convert", "--store", st, "-j", "2", debs["nginx-common"], bad, debs["libssl3"]}

	out, errOut, code := run(t, args...)
	if code != 1 {
		t.Errorf("exit status %d with a corrupt .deb in the batch, want 1", code)
	}
	if !strings.Contains(errOut, bad) {
		t.Errorf("stderr does not name the corrupt file:\n%s", errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("stdout has %d lines, want one per good package:\n%s", len(lines), out)
	}
	for _, l := range lines {
		f := strings.Split(l, "\t")
		if len(f) != 5 || !strings.HasPrefix(f[3], "sha256:") {
			t.Errorf("bad output line %q (want name, version, architecture, digest, size)", l)
		}
	}
	if !strings.Contains(errOut, "converted 2, already stored 0, failed 1") {
		t.Errorf("summary line missing or wrong:\n%s", errOut)
	}

	out2, errOut2, code := run(t, "convert", "--store", st, debs["nginx-common"], debs["libssl3"])
	if code != 0 || out2 != out {
		t.Errorf("second run: status %d, output %q, want 0 and the same lines", code, out2)
	}
	if !strings.Contains(errOut2, "converted 0, already stored 2, failed 0") {
		t.Errorf("second run converted again:\n%s", errOut2)
	}

	// Standard tools read the store.
	nginx := strings.Split(lines[0], "\t")
	blob := filepath.Join(st, "blobs", "sha256", strings.TrimPrefix(nginx[3], "sha256:"))
	list, err := exec.Command("tar", "-tzf", blob).Output()
	if err != nil || !strings.Contains(string(list), "var/lib/dpkg/status.d/nginx-common") {
		t.Errorf("tar -t of the layer: %v\n%s", err, list)
	}
	ref := "nginx-common_" + strings.NewReplacer("+", "_", "~", "_", ":", "_").Replace(nginx[1]) + "_all"
	if _, err := exec.LookPath("skopeo"); err == nil {
		out, err := exec.Command("skopeo", "inspect", "oci:"+st+":"+ref).Output()
		var info struct {
			Layers []string
			Labels map[string]string
		}
		if err != nil || json.Unmarshal(out, &info) != nil || len(info.Layers) != 1 || info.Layers[0] != nginx[3] {
			t.Errorf("skopeo inspect oci:%s:%s: %v\n%s", st, ref, err, out)
		}
	} else {
		t.Log("skopeo not installed (scripts/install-deps.sh installs it): skipped")
	}
	if _, err := exec.LookPath("umoci"); err == nil {
		bundle := filepath.Join(dir, "bundle")
		if out, err := exec.Command("umoci", "unpack", "--image", st+":"+ref, bundle).CombinedOutput(); err != nil {
			t.Errorf("umoci unpack: %v\n%s", err, out)
		} else if _, err := os.Stat(filepath.Join(bundle, "rootfs/var/lib/dpkg/info/nginx-common.list")); err != nil {
			t.Errorf("umoci unpacked no dpkg database: %v", err)
		}
	} else {
		t.Log("umoci not installed (scripts/install-deps.sh installs it): skipped")
	}
}

// TestConvertMaxExpandedSize runs `deb2fs convert --max-expanded-size` on
// a small hand-made .deb whose data expands to 2 MiB: refused under a
// 1MiB cap with a message naming the file and the flag, converted under
// the default; a malformed size is a usage error. `deb2fs mirror` takes
// the same flag.
func TestConvertMaxExpandedSize(t *testing.T) {
	dir := t.TempDir()
	deb := fixtures.Deb{
		Control: fixtures.Control("edge-expand"),
		Data:    fixtures.Tree(fixtures.File("./usr/share/edge-expand/zeros", 0o644, strings.Repeat("\x00", 2<<20))),
	}.WriteFile(t, dir, "expand.deb")
	st := filepath.Join(dir, "store")
	_, errOut, code := run(t, "convert", "--store", st, "--max-expanded-size", "1MiB", deb)
	if code != 1 || !strings.Contains(errOut, deb) || !strings.Contains(errOut, "expands to more than 1048576 bytes") ||
		!strings.Contains(errOut, "--max-expanded-size") {
		t.Errorf("under a 1MiB cap: status %d, stderr:\n%s", code, errOut)
	}
	if out, errOut, code := run(t, "convert", "--store", st, deb); code != 0 || !strings.HasPrefix(out, "edge-expand\t") {
		t.Errorf("under the default cap: status %d, stdout %q, stderr:\n%s", code, out, errOut)
	}
	if _, errOut, code := run(t, "convert", "--store", st, "--max-expanded-size", "1.5G", deb); code == 0 || !strings.Contains(errOut, `"1.5G" is not a size`) {
		t.Errorf("a malformed size: status %d, stderr:\n%s", code, errOut)
	}
	if out, _, code := run(t, "mirror", "--help"); code != 0 || !strings.Contains(out, "--max-expanded-size size") || !strings.Contains(out, "(default 16GiB)") {
		t.Errorf("mirror --help lacks --max-expanded-size (status %d):\n%s", code, out)
	}
}

// TestVersionAndHelp checks the command tree.
func TestVersionAndHelp(t *testing.T) {
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "deb2fs ") || !strings.Contains(out, "layer format 1") {
		t.Errorf("deb2fs version: %d %q", code, out)
	}
	out, _, _ = run(t, "--help")
	if !strings.Contains(out, "convert") {
		t.Errorf("--help does not list convert:\n%s", out)
	}
	if _, errOut, code := run(t, "convert", "--compression", "lz4", "x.deb"); code == 0 || !strings.Contains(errOut, "lz4") {
		t.Errorf("a bad --compression was accepted: %d %s", code, errOut)
	}
}

// TestConvertKilled kills `deb2fs convert` with SIGKILL while it writes a
// layer, then checks the store: index.json still parses, no record points
// at the half-written layer, and a rerun converts it to the same digest as
// an uninterrupted run.
func TestConvertKilled(t *testing.T) {
	deb := fixtures.RealDebs(t, "libicu72")["libicu72"]
	st := filepath.Join(t.TempDir(), "store")
	cmd := exec.Command(deb2fs, "convert", "--store", st, "--xz", "go", deb)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(st, "deb2fs", "tmp")
	// Wait for the layer's temporary file to grow: the kill lands mid-layer.
	deadline := time.Now().Add(time.Minute)
	for written := false; !written; {
		if time.Now().After(deadline) {
			t.Fatal("no layer was being written after a minute")
		}
		es, _ := os.ReadDir(tmp)
		for _, e := range es {
			if fi, err := e.Info(); err == nil && fi.Size() > 1<<20 {
				written = true
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if recs, _ := filepath.Glob(filepath.Join(st, "deb2fs", "layers", "*")); len(recs) != 0 {
		t.Fatalf("a killed run left layer records: %v", recs)
	}
	data, err := os.ReadFile(filepath.Join(st, "index.json"))
	var idx map[string]any
	if err != nil || json.Unmarshal(data, &idx) != nil {
		t.Fatalf("index.json unreadable after the kill: %v", err)
	}
	out, _, code := run(t, "convert", "--store", st, deb)
	if code != 0 {
		t.Fatalf("rerun failed: %d", code)
	}
	clean, _, _ := run(t, "convert", "--store", filepath.Join(t.TempDir(), "clean"), deb)
	if out != clean {
		t.Errorf("after a kill: %q, uninterrupted: %q", out, clean)
	}
	if es, _ := os.ReadDir(tmp); len(es) != 0 {
		t.Errorf("the killed run's temporary files were not cleaned: %v", es)
	}
}
