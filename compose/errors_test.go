package compose

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// handMade converts a hand-made package into s and returns its entry.
func handMade(t *testing.T, s *store.Store, d fixtures.Deb, name string) index.Entry {
	t.Helper()
	p := d.WriteFile(t, t.TempDir(), name+".deb")
	data, _ := os.ReadFile(p)
	sum := sha256.Sum256(data)
	r := convert.Batch(context.Background(), []convert.Job{{Path: p}}, s, convert.BatchOptions{})[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	l := r.Layer
	return index.Entry{
		Package: l.Package, Version: l.Version, Architecture: l.Architecture, Priority: "optional",
		DebSHA256: hex.EncodeToString(sum[:]),
		Layer:     index.Layer{Digest: l.Digest, DiffID: l.DiffID, Size: l.Size, MediaType: l.MediaType},
	}
}

// A failing maintainer script fails the compose with an error naming the
// package and the script and carrying its output; nothing is tagged.
func TestComposeFailingScript(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	base := hostSet(t, s, resolve.Request{})
	for _, script := range []string{"preinst", "postinst"} {
		t.Run(script, func(t *testing.T) {
			name := "deb2fs-failing-" + script
			e := handMade(t, s, fixtures.Deb{
				Control:      fixtures.Control(name),
				ControlFiles: map[string][]byte{script: []byte("#!/bin/sh\necho \"boom from $0 $1\" >&2\nexit 3\n")},
				Data:         []fixtures.Entry{fixtures.Dir("./"), fixtures.Dir("./usr/"), fixtures.Dir("./usr/share/"), fixtures.File("./usr/share/"+name, 0o644, "x\n")},
			}, name)
			out := t.TempDir()
			_, err := Compose(context.Background(), Options{
				Packages: append(append([]index.Entry(nil), base...), e), Store: s, NoCache: true,
				Output: output.Layout{Dir: out, Tag: "failing"},
			})
			var se *configure.ScriptError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a configure.ScriptError", err)
			}
			if se.Package != name || se.Script != script || !strings.Contains(se.Output, "boom from") {
				t.Errorf("ScriptError{Package: %q, Script: %q, Output: %q}", se.Package, se.Script, se.Output)
			}
			t.Logf("error: %v", err)
			if idx, err := os.ReadFile(filepath.Join(out, "index.json")); err == nil && strings.Contains(string(idx), "failing") {
				t.Errorf("a failed compose tagged an image: %s", idx)
			}
		})
	}
}

// The essential set alone composes: every package installed.
func TestComposeEssential(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	es := hostSet(t, s, resolve.Request{})
	img, err := Compose(context.Background(), Options{Packages: es, Store: s, NoCache: true,
		Output: output.Layout{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d packages, %s", len(img.Packages), img.Timings)
}

// A failing postinst's last lines are in the error message, after the
// lines dpkg printed for other packages: the error quotes the failing
// script's part of dpkg's output, its last configure.ErrorLines lines.
func TestComposeScriptErrorLastLines(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	base := hostSet(t, s, resolve.Request{})
	name := "deb2fs-chatty-failure"
	e := handMade(t, s, fixtures.ScriptDeb(name, map[string]string{
		"postinst": "i=1\nwhile [ $i -le 60 ]; do echo \"chatty line $i\"; i=$((i+1)); done\necho 'last words' >&2\nexit 1\n",
	}), name)
	_, err := Compose(context.Background(), Options{
		Packages: append(append([]index.Entry(nil), base...), e), Store: s, NoCache: true,
		Output: output.Layout{Dir: t.TempDir()},
	})
	var se *configure.ScriptError
	if !errors.As(err, &se) || se.Package != name || se.Script != "postinst" {
		t.Fatalf("got %v, want a postinst configure.ScriptError of %s", err, name)
	}
	msg := err.Error()
	t.Logf("error:\n%s", msg)
	for _, want := range []string{"chatty line 55", "chatty line 60", "last words", "earlier lines"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	if strings.Contains(msg, "chatty line 30\n") {
		t.Errorf("error quotes more than the last %d lines", configure.ErrorLines)
	}
	if n := strings.Count(msg, "\n"); n > configure.ErrorLines+2 {
		t.Errorf("error has %d lines, want about %d", n+1, configure.ErrorLines)
	}
}

// An error says so when the script printed nothing (mariadb-server's
// preinst sends adduser's output to /dev/null).
func TestScriptErrorSilent(t *testing.T) {
	err := &configure.ScriptError{Package: "p", Script: "preinst", Err: errors.New("exit status 1")}
	if got, want := err.Error(), "p preinst failed: exit status 1\n(it printed nothing)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
