package configure

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/resolve"
)

// The sandbox maintainer scripts run in, as compose starts it over an
// assembled root: fixed host name, its own pid namespace whose pid 1
// (outside the chroot) they cannot look through, ischroot saying "chroot",
// loopback only, no /sys, a minimal /dev, read-only /proc/sys, none of
// CAP_SYS_ADMIN and CAP_SYS_CHROOT, and only the environment compose sets.
func TestSandbox(t *testing.T) {
	needRoot(t)
	s := hosttest.CacheStore(t)
	es := hosttest.HostSet(t, s, resolve.Request{})
	var base bytes.Buffer
	desc, _, err := rootfs.WriteBaseLayer(&base, index.NativeArch(es))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Layout().PutBytes(desc.MediaType, base.Bytes()); err != nil {
		t.Fatal(err)
	}
	c := &Builder{opts: Options{Assemble: AssembleExtract}, st: s, pkgs: es}
	dir, err := os.MkdirTemp(DefaultWorkDir(), RootPrefix)
	if err != nil {
		t.Fatal(err)
	}
	sc := &scratch{dir: dir}
	defer sc.remove()
	if _, err := c.assemble(sc, desc, configureRun{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DEB2FS_LEAK", "host secret")
	sb := &scriptSandbox{box: sc.box, root: sc.root, env: baseEnv(1700000000)}
	out, err := sb.run(context.Background(), nil, "/bin/sh", "-c", `
echo "host=$(cat /proc/sys/kernel/hostname)"
echo "pid1=$(tr '\0' '\n' < /proc/1/cmdline | head -n 1)"
echo "uid=$(id -u) gid=$(id -g)"
if ischroot; then echo ischroot=yes; else echo ischroot=no; fi
if ls /proc/1/root/ >/dev/null 2>&1; then echo pid1root=readable; else echo pid1root=denied; fi
echo "sys=$(ls /sys | wc -l)"
echo "dev=$(ls /dev | tr '\n' ' ')"
echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then echo procsys=writable; else echo procsys=ro; fi
echo "capbnd=$(grep CapBnd /proc/self/status | cut -f2)"
echo "seccomp=$(grep '^Seccomp:' /proc/self/status | cut -f2)"
echo "leak=${DEB2FS_LEAK:-none} sde=$SOURCE_DATE_EPOCH frontend=$DEBIAN_FRONTEND"
`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := string(out)
	t.Log(got)
	for _, want := range []string{
		"host=" + Hostname + "\n", "pid1=deb2fs-sandbox\n", "uid=0 gid=0\n", "ischroot=yes\n", "pid1root=denied\n",
		"sys=0\n", "ifaces=lo \n", "procsys=ro\n", "seccomp=2\n",
		"leak=none sde=1700000000 frontend=noninteractive\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("sandbox: want %q in\n%s", want, got)
		}
	}
	for _, dev := range []string{"null", "zero", "urandom", "tty", "fd"} {
		if !strings.Contains(got, " "+dev+" ") && !strings.Contains(got, "dev="+dev+" ") {
			t.Errorf("sandbox /dev lacks %s", dev)
		}
	}
	// CAP_SYS_CHROOT is bit 18, CAP_SYS_ADMIN bit 21.
	if i := strings.Index(got, "capbnd="); i >= 0 {
		var bnd uint64
		for _, c := range strings.TrimSpace(strings.SplitN(got[i+7:], "\n", 2)[0]) {
			bnd = bnd<<4 | uint64(strings.IndexRune("0123456789abcdef", c))
		}
		if bnd&(1<<21|1<<18) != 0 {
			t.Errorf("CAP_SYS_ADMIN or CAP_SYS_CHROOT is in the bounding set %x", bnd)
		}
	}
}
