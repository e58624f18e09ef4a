package configure

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// statusDir is where package layers keep their status fragments.
const statusDir = "var/lib/dpkg/status.d"

// mergeStatus builds var/lib/dpkg/status from the package layers' status
// fragments (each a `Status: install ok unpacked` stanza, with Conffiles),
// sorted by file name as dpkg sorts its database, and removes the
// fragments: dpkg never reads status.d, and once configure has run the
// fragments' "unpacked" would contradict the status file for the scanners
// that read both. It returns the number of stanzas.
func mergeStatus(root string) (int, error) {
	dir := filepath.Join(root, statusDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("status fragments: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasSuffix(e.Name(), ".md5sums") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var buf bytes.Buffer
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return 0, err
		}
		data = bytes.TrimRight(data, "\n")
		if len(data) == 0 {
			continue
		}
		buf.Write(data)
		buf.WriteString("\n\n")
	}
	status := filepath.Join(root, "var/lib/dpkg/status")
	if err := os.WriteFile(status, buf.Bytes(), 0o644); err != nil {
		return 0, err
	}
	return len(names), os.RemoveAll(dir)
}
