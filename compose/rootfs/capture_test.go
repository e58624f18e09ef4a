package rootfs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/compose/rootfs"

	"github.com/deb2fs/deb2fs/compose/rootfs/rootfstest"
	"github.com/deb2fs/deb2fs/sandbox"
)

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCaptureDiff(t *testing.T) {
	root := t.TempDir()
	write(t, root, "etc/keep", "same")
	write(t, root, "etc/change", "old")
	write(t, root, "etc/gone", "x")
	write(t, root, "usr/share/doc/pkg/a", "a")
	write(t, root, "usr/share/doc/pkg/b", "b")
	write(t, root, "var/run/x", "x")
	write(t, root, "tmp/scratch", "x")
	before, err := rootfs.Snapshot(root)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // ctime granularity
	write(t, root, "etc/change", "new")
	write(t, root, "etc/new/file", "n")
	write(t, root, "tmp/other", "ignored")
	os.Remove(filepath.Join(root, "etc/gone"))
	os.RemoveAll(filepath.Join(root, "usr/share/doc/pkg"))
	os.RemoveAll(filepath.Join(root, "var/run"))
	if err := os.Symlink("/run", filepath.Join(root, "var/run")); err != nil {
		t.Fatal(err)
	}
	changes, err := rootfs.Diff(root, before)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, _, err := rootfs.WriteChanges(&buf, root, changes, time.Unix(1700000000, 0), sandbox.IDs{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rootfstest.LayerEntries(t, buf.Bytes()), "\n")
	want := strings.Join([]string{
		"5 etc/",
		"0 etc/.wh.gone",
		"0 etc/change",
		"5 etc/new/",
		"0 etc/new/file",
		"5 usr/",
		"5 usr/share/",
		"5 usr/share/doc/",
		"0 usr/share/doc/.wh.pkg",
		"5 var/",
		"0 var/.wh.run",
		"2 var/run -> /run",
	}, "\n")
	if got != want {
		t.Errorf("configure layer:\n%s\nwant:\n%s", got, want)
	}
}

func TestCaptureDeterministic(t *testing.T) {
	build := func() []byte {
		root := t.TempDir()
		write(t, root, "a", "1")
		before, _ := rootfs.Snapshot(root)
		write(t, root, "b/c", "2")
		os.Link(filepath.Join(root, "b/c"), filepath.Join(root, "b/d"))
		changes, err := rootfs.Diff(root, before)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, _, err := rootfs.WriteChanges(&buf, root, changes, time.Unix(1700000000, 0), sandbox.IDs{}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a, b := build(), build()
	if !bytes.Equal(a, b) {
		t.Error("two captures of the same change differ")
	}
	if got := strings.Join(rootfstest.LayerEntries(t, a), "\n"); got != "5 b/\n0 b/c\n1 b/d -> b/c" {
		t.Errorf("hard link: got\n%s", got)
	}
}
