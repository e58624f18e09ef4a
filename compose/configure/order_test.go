package configure

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// A preinst of a package outside the Essential set runs after what it
// Pre-Depends on, and the Essential set, are configured, each with its
// dependencies; the Essential set's preinsts wait for nothing; the rest
// is configured at the end.
func TestStages(t *testing.T) {
	es := []index.Entry{
		{Package: "base-passwd", Version: "1", Architecture: "amd64", Essential: true},
		{Package: "login", Version: "1", Architecture: "amd64", Essential: true, PreDepends: "libpam-runtime"},
		{Package: "libpam-runtime", Version: "1", Architecture: "all"},
		{Package: "passwd", Version: "1", Architecture: "amd64", Depends: "libpam-modules"},
		{Package: "libpam-modules", Version: "1", Architecture: "amd64"},
		{Package: "adduser", Version: "1", Architecture: "all", Depends: "passwd"},
		{Package: "mariadb-server", Version: "1", Architecture: "amd64", PreDepends: "adduser"},
		{Package: "plain", Version: "1", Architecture: "amd64"},
		{Package: "cyclic", Version: "1", Architecture: "amd64", PreDepends: "cycle-helper"},
		{Package: "cycle-helper", Version: "1", Architecture: "amd64", Depends: "cyclic"},
	}
	g, err := scriptOrder(es, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	preinst := map[string]bool{"base-passwd": true, "login": true, "mariadb-server": true, "plain": true, "cyclic": true}
	var got []string
	names := func(es []*index.Entry) string {
		var n []string
		for _, e := range es {
			n = append(n, e.Package)
		}
		return strings.Join(n, ",")
	}
	for _, st := range g.stages(func(e *index.Entry) bool { return preinst[e.Package] }) {
		got = append(got, fmt.Sprintf("preinst %s; configure %s", names(st.preinst), names(st.configure)))
	}
	want := []string{
		// login is Essential: installed with the Essential set, its
		// preinst waits for nothing; mariadb-server waits for adduser,
		// its dependencies and the Essential set; cyclic is among its own
		// prerequisites and waits for nothing; plain has no Pre-Depends.
		"preinst base-passwd,cyclic,login; configure base-passwd,libpam-modules,libpam-runtime,login,passwd,adduser",
		"preinst mariadb-server,plain; configure ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// needRoot skips a test that needs root (namespaces, chown, mknod).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("configuring needs root: namespaces, file ownership")
	}
}

// openStore opens (making it) the store in dir.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
