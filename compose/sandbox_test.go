package compose

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/mirror"
	"github.com/deb2fs/deb2fs/resolve"
)

// The sandbox maintainer scripts run in: fixed host name, its own pid
// namespace whose pid 1 (outside the chroot) they cannot look through,
// ischroot saying "chroot", loopback only, no /sys, a minimal /dev, read-only
// /proc/sys, no CAP_SYS_ADMIN, and only the environment compose sets.
func TestSandbox(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	es := hostSet(t, s, resolve.Request{})
	root, err := os.MkdirTemp(defaultWorkDir(), rootPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	os.Chmod(root, 0o755)
	var base bytes.Buffer
	desc, _, err := writeBaseLayer(&base, mirror.NativeArch(es))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writeBytesBlob(s.Dir(), desc.MediaType, base.Bytes()); err != nil {
		t.Fatal(err)
	}
	x := newExtractor(root)
	if err := x.apply(blobPath(s.Dir(), desc.Digest), desc.MediaType, desc.Digest); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if err := x.apply(blobPath(s.Dir(), e.Layer.Digest), e.Layer.MediaType, e.Layer.Digest); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("DEB2FS_LEAK", "host secret")
	sb := &sandbox{root: root, env: baseEnv(1700000000)}
	out, err := sb.run(context.Background(), nil, "/bin/sh", "-c", `
echo "host=$(cat /proc/sys/kernel/hostname)"
echo "pid1=$(tr '\0\n' '\n ' < /proc/1/cmdline | sed -n 4p)"
if ischroot; then echo ischroot=yes; else echo ischroot=no; fi
if ls /proc/1/root/ >/dev/null 2>&1; then echo pid1root=readable; else echo pid1root=denied; fi
echo "sys=$(ls /sys | wc -l)"
echo "dev=$(ls /dev | tr '\n' ' ')"
echo "ifaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then echo procsys=writable; else echo procsys=ro; fi
echo "capbnd=$(grep CapBnd /proc/self/status | cut -f2)"
echo "leak=${DEB2FS_LEAK:-none} sde=$SOURCE_DATE_EPOCH frontend=$DEBIAN_FRONTEND"
`)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := string(out)
	t.Log(got)
	for _, want := range []string{
		"host=" + Hostname + "\n", "pid1=deb2fs-sandbox\n", "ischroot=yes\n", "pid1root=denied\n", "sys=0\n", "ifaces=lo \n", "procsys=ro\n",
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
	// CAP_SYS_ADMIN is bit 21.
	if i := strings.Index(got, "capbnd="); i >= 0 {
		var bnd uint64
		for _, c := range strings.TrimSpace(strings.SplitN(got[i+7:], "\n", 2)[0]) {
			bnd = bnd<<4 | uint64(strings.IndexRune("0123456789abcdef", c))
		}
		if bnd&(1<<21) != 0 {
			t.Errorf("CAP_SYS_ADMIN is in the bounding set %x", bnd)
		}
	}
}
