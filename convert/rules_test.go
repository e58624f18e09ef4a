package convert

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/fixtures"
)

// TestMaxExpandedSize converts a small .deb whose data.tar expands to a
// known size under caps around that size: at the size it converts, one
// byte below it is refused with a TooLargeError naming the limit, and so
// is a cap far below it. No large file is written anywhere.
func TestMaxExpandedSize(t *testing.T) {
	d := fixtures.Deb{
		Control: fixtures.Control("edge-expand"),
		Data:    fixtures.Tree(fixtures.File("./usr/share/edge-expand/zeros", 0o644, strings.Repeat("\x00", 2<<20))),
	}
	deb := d.Bytes()
	expanded := int64(len(fixtures.TarBytes(d.Data)))
	if len(deb) > 64<<10 {
		t.Fatalf("the .deb is %d bytes: expected a small file that expands", len(deb))
	}
	conv := func(limit int64) error {
		_, err := Convert(context.Background(), bytes.NewReader(deb), io.Discard, Options{XZ: XZGo, MaxExpandedSize: limit})
		return err
	}
	for _, limit := range []int64{expanded, expanded + 1, 0} {
		if err := conv(limit); err != nil {
			t.Errorf("limit %d (data.tar is %d bytes): %v", limit, expanded, err)
		}
	}
	for _, limit := range []int64{expanded - 1, 1 << 20, 1} {
		err := conv(limit)
		var tl *TooLargeError
		if !errors.As(err, &tl) || tl.Limit != limit {
			t.Errorf("limit %d (data.tar is %d bytes): error %v, want a TooLargeError", limit, expanded, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "data.tar.xz") || !strings.Contains(msg, "--max-expanded-size") {
			t.Errorf("limit %d: error %q does not name the member and the flag", limit, msg)
		}
	}
}

func TestParseConffiles(t *testing.T) {
	got, err := parseConffiles([]byte("/etc/a\n\n   \nremove-on-upgrade /etc/old\n/etc/b  \t\n/etc/naïve.conf\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []conffileLine{{path: "/etc/a"}, {path: "/etc/old", flags: []string{"remove-on-upgrade"}}, {path: "/etc/b"}, {path: "/etc/naïve.conf"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseConffiles = %#v, want %#v", got, want)
	}
	if got, err := parseConffiles(nil); err != nil || got != nil {
		t.Errorf("empty conffiles: %v %v", got, err)
	}
	for in, wantErr := range map[string]string{
		"/etc/a":                              "does not end in a newline",
		"/etc/a\n/etc/b":                      "does not end in a newline",
		"/\n":                                 "not a clean absolute path",
		"/etc//a\n":                           "not a clean absolute path",
		"/etc/./a\n":                          "not a clean absolute path",
		"/etc/a/\n":                           "not a clean absolute path",
		"/etc/a\n/etc/../etc/a\n":             "line 2: \"/etc/../etc/a\" is not a clean",
		"/etc/a\nremove-on-upgrade /etc/a\n":  "line 2: \"/etc/a\" is listed twice",
		" /etc/a\n":                           `unknown flag ""`,
		"remove-on-upgrade\n":                 "not an absolute path",
		"remove-on-upgrade \n":                "not an absolute path", // the trailing space is trimmed first
		"remove-on-upgrade etc/a\n":           "not an absolute path",
		"/etc/a\x1b[2J\n":                     "control character",
		"/" + strings.Repeat("a", 996) + "\n": "longer than dpkg's limit",
		"/etc/a b\n":                          "whitespace",
	} {
		_, err := parseConffiles([]byte(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("parseConffiles(%q): error %v, want %q", in, err, wantErr)
		}
	}
	// dpkg's longest line, 996 bytes before the newline, is accepted.
	if _, err := parseConffiles([]byte("/" + strings.Repeat("a", 995) + "\n")); err != nil {
		t.Errorf("a 996-byte line: %v", err)
	}
}
