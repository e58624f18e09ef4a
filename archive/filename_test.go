package archive

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/aptsources"
)

// TestHostileFilename publishes signed indexes whose Filename leaves the
// archive root or is no plain relative path. Each .deb is written where
// the Filename points (outside the root for "../"), with the right size
// and SHA256, so only the Filename rule stands between a file:// archive
// and a read outside its root: the index is refused, as a verification
// failure, with an error naming the package, the field and the rule.
func TestHostileFilename(t *testing.T) {
	for i, tc := range []struct{ filename, rule string }{
		{"../outside/secret.deb", `".." component`},
		{"pool/../../outside/secret.deb", `".." component`},
		{"/etc/secret.deb", "absolute"},
		{"pool//main/h/hello.deb", "empty component"},
		{"pool/./main/hello.deb", `"." component`},
		{"pool/main/", "empty component"},
		{"%2e%2e/outside/secret.deb", `".." component`},
		{"pool/%2F../x.deb", `".." component`},
		{"pool/main/hello.deb?x=1", "'?'"},
		{"pool/main/hello.deb#x", "'#'"},
		{"pool\\..\\x.deb", "'\\\\'"},
		{"pool/main/hello\x01.deb", "control character"},
		{"pool/%zz.deb", "percent-encoding"},
	} {
		// Subtests by number: the name becomes the temporary directory,
		// which the file:// URI must not mangle.
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			a := newTestArchive(t)
			pkg := testPkg{name: "hello", version: "2.10-3", arch: "amd64", path: tc.filename}
			a.addSuite("stable", []testPkg{pkg}, suiteOpts{})
			if _, err := os.Stat(filepath.Join(a.Root, "../outside/secret.deb")); strings.HasPrefix(tc.filename, "../") && err != nil {
				t.Fatalf("the test did not plant the file outside the root: %v", err)
			}
			for _, src := range []aptsources.Source{a.source("stable"), a.fileSource("stable")} {
				c := a.client()
				rel, err := c.Release(ctx, src, "stable")
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.Packages(ctx, rel, "main", "amd64")
				if err == nil {
					t.Fatalf("%s: index with Filename %q accepted", src.URI, tc.filename)
				}
				msg := err.Error()
				if !errors.Is(err, ErrVerification) || !strings.Contains(msg, "hello 2.10-3") ||
					!strings.Contains(msg, "Filename") || !strings.Contains(msg, tc.rule) {
					t.Errorf("%s: error %q does not match ErrVerification and name the package, Filename and %s", src.URI, msg, tc.rule)
				}
			}
			// Fetch refuses it too, for a Package made by hand.
			p := &Package{Name: "hello", Version: "2.10-3", Architecture: "amd64", Filename: tc.filename,
				Size: 1, SHA256: strings.Repeat("0", 64), Release: &Release{URI: "file://" + a.Root}}
			if err := a.client().Fetch(ctx, p, filepath.Join(t.TempDir(), "x.deb")); err == nil || !strings.Contains(err.Error(), "Filename") {
				t.Errorf("Fetch of Filename %q: %v", tc.filename, err)
			}
		})
	}
}

// TestRealFilenamesPass reads the host's largest real Packages index
// (ReadPackages applies the Filename rule): no real package is refused.
func TestRealFilenamesPass(t *testing.T) {
	pkgs, err := ReadPackages(bytes.NewReader(realPackages(t)))
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkgs {
		if err := checkFilename(pkgs[i].Filename); err != nil || pkgs[i].Filename == "" {
			t.Errorf("%s: Filename %q: %v", pkgs[i].ID(), pkgs[i].Filename, err)
		}
	}
	t.Logf("%d Filenames checked", len(pkgs))
}
