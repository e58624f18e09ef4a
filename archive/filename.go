package archive

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// checkFilename checks a Packages stanza's Filename: the .deb's path
// relative to the archive root, which Fetch appends to the archive URI.
// It must be a clean relative path under the root, in its raw form and
// percent-decoded (as an HTTP server or the file:// transport reads it):
// not absolute, no empty, "." or ".." component, no control character, no
// backslash, and no '?' or '#', which would end the URL's path. Without
// this, a signed index with "Filename: ../../etc/x" makes a file://
// archive read outside its root and an http one request a path outside.
func checkFilename(name string) error {
	if name == "" {
		return errors.New("is empty")
	}
	if i := strings.IndexAny(name, `?#\`); i >= 0 {
		return fmt.Errorf("contains %q (not a plain path)", name[i])
	}
	decoded, err := url.PathUnescape(name)
	if err != nil {
		return fmt.Errorf("has a bad percent-encoding: %v", err)
	}
	for _, s := range []string{name, decoded} {
		if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0 {
			return errors.New("contains a control character")
		}
		if strings.HasPrefix(s, "/") {
			return errors.New("is an absolute path")
		}
		if strings.Contains(s, `\`) {
			return fmt.Errorf("contains %q (not a plain path)", '\\')
		}
		parts := strings.Split(s, "/")
		for _, bad := range []struct{ part, what string }{{"..", `a ".." component`}, {".", `a "." component`}, {"", "an empty component"}} {
			for _, p := range parts {
				if p == bad.part {
					return fmt.Errorf("has %s", bad.what)
				}
			}
		}
	}
	return nil
}

// filenameError is the error for p's bad Filename: a verification
// failure, since a trustworthy archive never signs one.
func filenameError(p *Package, err error) error {
	return verifyErrorf("%s %s: field Filename %q %v: it must be a clean relative path under the archive root",
		p.Name, p.Version, p.Filename, err)
}
