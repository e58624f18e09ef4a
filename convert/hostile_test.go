package convert_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/store"
)

// wantProblem is the part of the error each hostile .deb must produce: the
// error names the file (checked for all) and says what is wrong.
var wantProblem = map[string]string{
	"not-ar":                      "not a Debian package",
	"no-data-member":              "no data.tar member",
	"truncated-data-xz":           "data.tar.xz",
	"unknown-compression":         "unknown compression",
	"dotdot-path":                 "escapes the root",
	"absolute-path":               "absolute path",
	"symlink-absolute-then-write": "written through the symlink /x",
	"symlink-dotdot-then-write":   "written through the symlink /up",
	"hardlink-dotdot":             "outside the package",
	"hardlink-absolute":           "outside the package",
	"hardlink-forward":            "not a regular file earlier in the package",
	"no-control-file":             "no control file",
	"debian-binary-3.0":           "unsupported package format version",
	"data-before-control":         "comes before the control member",
	"ar-size-past-end":            "truncated",

	"newline-in-path":           "newline",
	"dotdot-inside-path":        "escapes the root",
	"package-name-dotdot":       `control: field Package: invalid package name ".."`,
	"package-name-dot":          `control: field Package: invalid package name "."`,
	"package-name-upper":        `control: field Package: invalid package name "Hostile-Upper"`,
	"package-name-dollar":       `control: field Package: invalid package name "hostile$name"`,
	"package-name-underscore":   `character '_' not allowed`,
	"version-underscore":        `control: field Version: invalid version "1.0_1"`,
	"version-slash":             `control: field Version: invalid version "1.0/../../x"`,
	"version-no-digit":          "does not start with a digit",
	"version-bad-epoch":         "the epoch is not a number",
	"arch-dotdot":               `control: field Architecture: invalid architecture ".."`,
	"arch-wildcard":             "a wildcard, not a binary architecture",
	"multiarch-invalid":         `control: field Multi-Arch: invalid Multi-Arch "Same"`,
	"multiarch-same-all":        `control: field Multi-Arch: invalid Multi-Arch "same" for Architecture "all"`,
	"source-invalid":            "control: field Source",
	"depends-unparsable":        `control: field Depends: "libc6 (>= 2.36" does not parse`,
	"conffile-dotdot":           `conffiles line 1: "/../../etc/shadow" is not a clean absolute path`,
	"conffile-duplicate":        `conffiles line 2: "/etc/hostile.conf" is listed twice`,
	"conffile-not-shipped":      `conffiles: "/etc/shadow" is not in the package`,
	"conffile-relative":         `conffiles line 1: "etc/hostile.conf" is not an absolute path`,
	"conffile-no-final-newline": "conffiles: the last line does not end in a newline",
	"conffile-unknown-flag":     `conffiles line 1: unknown flag "obsolete"`,
	"conffile-remove-shipped":   `conffiles: "/etc/hostile.conf" is marked remove-on-upgrade, but the package ships it`,
	"conffile-space":            `conffiles line 1: "/etc/hostile conf" contains whitespace`,
	"control-bomb":              "control.tar.gz: expands to more than",
}

// TestHostileDebs converts every hostile .deb in one batch with a good one,
// with both xz decoders: each hostile one fails with an error naming the
// file and the problem, the good one still converts, and the store holds
// the good layer only, with no temporary file left and nothing written
// outside it.
func TestHostileDebs(t *testing.T) {
	for _, xz := range []convert.XZDecoder{convert.XZExec, convert.XZGo} {
		t.Run(string(xz), func(t *testing.T) {
			dir := t.TempDir()
			debDir := filepath.Join(dir, "debs")
			os.MkdirAll(debDir, 0o755)
			good := fixtures.EdgeCases()[0]
			jobs := []convert.Job{{Path: good.Deb.WriteFile(t, debDir, "good.deb")}}
			names := []string{"good"}
			for _, h := range fixtures.Hostile() {
				p := filepath.Join(debDir, h.Name+".deb")
				if err := os.WriteFile(p, h.Bytes, 0o644); err != nil {
					t.Fatal(err)
				}
				jobs = append(jobs, convert.Job{Path: p})
				names = append(names, h.Name)
				if _, ok := wantProblem[h.Name]; !ok {
					t.Errorf("hostile case %s has no expected error in this test", h.Name)
				}
			}
			st, err := store.Open(filepath.Join(dir, "store"))
			if err != nil {
				t.Fatal(err)
			}
			// Run where a relative escape would land, to see that nothing does.
			work := filepath.Join(dir, "a", "b", "c", "d", "e", "f")
			os.MkdirAll(work, 0o755)
			t.Chdir(work)
			results := convert.Batch(context.Background(), jobs, st, convert.BatchOptions{Jobs: 3, Options: convert.Options{XZ: xz}})
			for i, r := range results {
				name := names[i]
				if name == "good" {
					if r.Err != nil {
						t.Fatalf("the good .deb failed next to the hostile ones: %v", r.Err)
					}
					continue
				}
				if r.Err == nil {
					t.Errorf("%s: converted without error", name)
					continue
				}
				msg := r.Err.Error()
				t.Logf("%s: %s", name, strings.TrimPrefix(msg, debDir+"/"))
				if !strings.Contains(msg, jobs[i].Path) || !strings.Contains(msg, wantProblem[name]) {
					t.Errorf("%s: error %q does not name the file and %q", name, msg, wantProblem[name])
				}
			}
			recs, _ := filepath.Glob(filepath.Join(dir, "store", "deb2fs", "layers", "*.json"))
			if len(recs) != 1 {
				t.Errorf("store has %d layer records, want 1 (the good .deb)", len(recs))
			}
			if tmp, _ := os.ReadDir(filepath.Join(dir, "store", "deb2fs", "tmp")); len(tmp) != 0 {
				t.Errorf("temporary files left in the store: %v", tmp)
			}
			blobs, _ := os.ReadDir(filepath.Join(dir, "store", "blobs", "sha256"))
			if len(blobs) != 3 { // the good layer, its config, its manifest
				t.Errorf("store has %d blobs, want 3", len(blobs))
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 3 { // debs, store, a
				t.Errorf("something was written next to the store: %v", entries)
			}
			for _, p := range []string{"/etc/evil", "/tmp/deb2fs-escaped", filepath.Join(dir, "tmp")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s exists after converting hostile packages", p)
				}
			}
		})
	}
}
