package sandbox

import (
	"context"
	"os"
	"testing"
)

func TestSmokeHostRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("root")
	}
	ids, err := DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	os.Mkdir(d+"/u", 0o755)
	os.Mkdir(d+"/w", 0o755)
	os.Chown(d+"/u", ids.Host, ids.Host)
	os.Chown(d+"/w", ids.Host, ids.Host)
	s, err := Start(context.Background(), Config{Lower: []string{"/"}, Upper: d + "/u", Work: d + "/w", IDs: ids, Hostname: "localhost", Env: []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Run(context.Background(), nil, "/bin/sh", "-c", "id; hostname; grep Cap /proc/self/status; cat /proc/self/uid_map; ls /dev; ls /proc/1/root; ischroot && echo chroot; grep Seccomp /proc/self/status; ulimit -u")
	t.Logf("%s %v %d", res.Output, err, res.Leftover)
	t.Log(s.Root())
	ents, err := os.ReadDir(s.Root())
	t.Log(len(ents), err)
}
