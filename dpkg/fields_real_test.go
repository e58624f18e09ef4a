package dpkg

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRealPackagesPassChecks reads every Packages index apt has on this
// host (/var/lib/apt/lists/*_Packages*, decompressed by apt-helper) and
// checks each stanza with CheckControl, the check convert applies to a
// .deb's control file: rules that refused a real package would be too
// strict. It skips when apt has no lists (run apt-get update).
func TestRealPackagesPassChecks(t *testing.T) {
	lists, _ := filepath.Glob("/var/lib/apt/lists/*_Packages*")
	helper, err := exec.LookPath("/usr/lib/apt/apt-helper")
	if len(lists) == 0 || err != nil {
		t.Skip("no apt Packages lists on this host (or no apt-helper): run apt-get update")
	}
	total := 0
	for _, list := range lists {
		out, err := exec.Command(helper, "cat-file", list).Output()
		if err != nil {
			t.Fatalf("apt-helper cat-file %s: %v", list, err)
		}
		n, failed := 0, 0
		for _, stanza := range bytes.Split(out, []byte("\n\n")) {
			if len(bytes.TrimSpace(stanza)) == 0 {
				continue
			}
			n++
			p, err := ParseParagraph(stanza)
			if err == nil {
				err = CheckControl(p)
			}
			if err != nil {
				failed++
				if failed <= 20 {
					t.Errorf("%s: %s %s: %v", filepath.Base(list), p.Get("Package"), p.Get("Version"), err)
				}
			}
		}
		t.Logf("%s: %d stanzas, %d refused", filepath.Base(list), n, failed)
		total += n
	}
	if total < 1000 {
		t.Errorf("only %d stanzas in %d lists: expected a full archive index", total, len(lists))
	}
}
