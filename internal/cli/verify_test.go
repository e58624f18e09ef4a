package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/fixtures"
)

// TestVerifyCommand: `deb2fs verify` is silent on an intact store, names a
// damaged layer blob and the package and tag that need it (exit 1),
// --repair removes them, and the store then verifies (exit 0).
func TestVerifyCommand(t *testing.T) {
	e := fixtures.EdgeCases()[0]
	deb := e.Deb.WriteFile(t, t.TempDir(), e.Name+".deb")
	st := filepath.Join(t.TempDir(), "store")
	if _, errOut, code := run(t, "convert", "--store", st, deb); code != 0 {
		t.Fatalf("convert: %s", errOut)
	}
	if out, errOut, code := run(t, "verify", "--store", st); code != 0 || !strings.Contains(out, "no problem") {
		t.Fatalf("intact store: exit %d\n%s%s", code, out, errOut)
	}
	blobs, _ := filepath.Glob(filepath.Join(st, "blobs", "sha256", "*"))
	var layer string
	for _, b := range blobs { // the layer is the largest blob
		if fi, _ := os.Stat(b); layer == "" || fi.Size() > mustSize(layer) {
			layer = b
		}
	}
	data, _ := os.ReadFile(layer)
	data[len(data)/2] ^= 1
	os.WriteFile(layer, data, 0o644)
	out, errOut, code := run(t, "verify", "--store", st)
	t.Logf("verify:\n%s%s", out, errOut)
	if code != 1 || !strings.Contains(out, filepath.Base(layer)) || !strings.Contains(out, "damaged") {
		t.Errorf("damaged blob: exit %d", code)
	}
	out, _, code = run(t, "verify", "--store", st, "--repair")
	t.Logf("verify --repair:\n%s", out)
	if code != 1 || !strings.Contains(out, "repaired") || !strings.Contains(out, "deb2fs mirror") {
		t.Errorf("--repair: exit %d", code)
	}
	if out, errOut, code := run(t, "verify", "--store", st); code != 0 {
		t.Errorf("after --repair: exit %d\n%s%s", code, out, errOut)
	}
}

func mustSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}
