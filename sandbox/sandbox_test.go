package sandbox

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// overHostRoot starts a sandbox over the host's own root, read-only below
// an overlay upper directory in a temporary directory.
func overHostRoot(tb testing.TB) *Sandbox {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root")
	}
	ids, err := DefaultIDs()
	if err != nil {
		tb.Fatal(err)
	}
	d := tb.TempDir()
	for _, sub := range []string{"u", "w"} {
		if err := os.Mkdir(d+"/"+sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chown(d+"/"+sub, ids.Host, ids.Host); err != nil {
			tb.Fatal(err)
		}
	}
	s, err := Start(context.Background(), Config{Lower: []string{"/"}, Upper: d + "/u", Work: d + "/w", IDs: ids,
		Hostname: "localhost", Env: []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// The host's root, seen from a sandbox: root of its own user namespace
// mapped to the unowned range, pid 1 outside the chroot, seccomp on, the
// host name set; the host's own files belong to nobody there and cannot be
// written, and what a command writes elsewhere stays in the upper
// directory.
func TestHostRoot(t *testing.T) {
	s := overHostRoot(t)
	defer s.Close()
	res, err := s.Run(context.Background(), nil, "/bin/sh", "-c",
		"id -u; hostname; grep ^Seccomp: /proc/self/status; ischroot && echo chroot; awk '{print $2}' /proc/self/uid_map; (echo x > /etc/deb2fs-sandbox-test) 2>/dev/null || echo denied; echo y > /tmp/deb2fs-sandbox-test; cat /tmp/deb2fs-sandbox-test")
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Output)
	}
	ids, _ := DefaultIDs()
	want := "0\nlocalhost\nSeccomp:\t2\nchroot\n" + strconv.Itoa(ids.Host) + "\ndenied\ny\n"
	if string(res.Output) != want {
		t.Errorf("output %q, want %q", res.Output, want)
	}
	for _, p := range []string{"/etc/deb2fs-sandbox-test", "/tmp/deb2fs-sandbox-test"} {
		if _, err := os.Stat(p); err == nil {
			os.Remove(p)
			t.Errorf("a write in the sandbox reached the host's %s", p)
		}
	}
	if ents, err := os.ReadDir(s.Root()); err != nil || len(ents) == 0 {
		t.Errorf("the host side cannot read the sandbox root: %d entries, %v", len(ents), err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
}

// BenchmarkStartRunClose is the fixed cost of a sandbox per compose:
// starting its three stages, one command, and tearing it down.
func BenchmarkStartRunClose(b *testing.B) {
	for b.Loop() {
		s := overHostRoot(b)
		if res, err := s.Run(context.Background(), nil, "/bin/true"); err != nil {
			b.Fatalf("%v\n%s", err, res.Output)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
