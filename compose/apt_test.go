package compose

import (
	"sort"
	"testing"

	"github.com/deb2fs/deb2fs/internal/apttest"
)

// aptInstalls asks apt which packages `apt-get install
// --no-install-recommends NAMES...` installs on an empty system
// (apttest.Installs), as sorted "name version" lines.
func aptInstalls(t *testing.T, names []string) []string {
	t.Helper()
	m, err := apttest.Installs(t, "", names, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for name, v := range m {
		got = append(got, name+" "+v)
	}
	sort.Strings(got)
	return got
}
