package compose

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// Hostname is the host name maintainer scripts see during configure: fixed
// and neutral, so that the build host's name never lands in a file (key
// comments, certificates, /etc/mailname).
const Hostname = "localhost"

// sandboxSetup is run by the host's /bin/sh inside the new namespaces,
// before it chroots: it sets the fixed host name in the new UTS namespace
// and gives the root a minimal /dev on a tmpfs that lives only as long as
// the mount namespace, the device nodes bound from the host's (mknod is
// not allowed in a user namespace; binding works in both modes). /proc is mounted by unshare (--mount-proc) and shows
// the new pid namespace only (its sys/ read-only, sysrq-trigger hidden);
// /sys is not mounted, so nothing reads the machine's identity (DMI
// product UUID) from it. A non-empty third argument replaces the boot id
// scripts read in /proc/sys/kernel/random/boot_id (the differential check
// gives its second run another one). The loopback interface is up
// (postfix's newaliases wants an active interface; ip(8) from iproute2).
// The command runs with a reduced capability bounding set (sandboxCaps),
// through setpriv(1) from util-linux, as a child of the shell: the
// namespace's pid 1 stays outside the chroot, so ischroot(1) sees a chroot
// (it compares its own mounts with pid 1's) as it does under debootstrap
// and mmdebstrap, and libc6's postinst skips "telinit u; sleep 1". Holding
// capabilities the scripts lack, pid 1 keeps them out of /proc/1/root.
const sandboxSetup = `set -e
R=$1; H=$2; B=$3; shift 3
if command -v hostname >/dev/null; then hostname "$H"; else printf %s "$H" > /proc/sys/kernel/hostname; fi
if command -v ip >/dev/null; then ip link set lo up; fi
mount -t tmpfs -o mode=0755,nosuid,size=16m deb2fs-dev "$R/dev"
for d in null zero full random urandom tty; do
	: > "$R/dev/$d"
	mount --bind "/dev/$d" "$R/dev/$d"
done
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mkdir -m 755 "$R/dev/pts"
mkdir -m 1777 "$R/dev/shm"
mount --bind "$R/proc/sys" "$R/proc/sys"
mount -o remount,bind,ro "$R/proc/sys" "$R/proc/sys"
if [ -n "$B" ]; then
	printf '%s\n' "$B" > "$R/dev/.boot_id"
	mount --bind "$R/dev/.boot_id" "$R/proc/sys/kernel/random/boot_id"
	rm "$R/dev/.boot_id"
fi
if [ -e "$R/proc/sysrq-trigger" ]; then mount --bind /dev/null "$R/proc/sysrq-trigger"; fi
setpriv --bounding-set ` + sandboxCaps + ` chroot "$R" "$@"
`

// sandboxCaps is the capability bounding set of maintainer scripts:
// Docker's default set (plus CAP_NET_RAW's neighbours it already has), so
// a script cannot mount, load modules, change the clock or reach raw
// devices; /proc/sys is read-only, so the host's non-namespaced sysctls
// stay untouched. Scripts still run as root in a chroot: packages are
// trusted (verified against the archive's signature), the sandbox keeps
// their side effects in, it is not a security boundary against a hostile
// package.
const sandboxCaps = "-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap," +
	"+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap"

// sandbox runs commands chrooted into a root, in new mount, pid, uts, ipc
// and net namespaces (unshare(1) from util-linux), with a fixed host name,
// no network but loopback (up), and a clean environment.
type sandbox struct {
	root     string
	env      []string // the whole environment of every command
	hostname string   // "" means Hostname
	bootID   string   // "" leaves the kernel's boot id
}

// run runs argv inside the sandbox with extra environment variables and
// returns its combined output.
func (s *sandbox) run(ctx context.Context, extraEnv []string, argv ...string) ([]byte, error) {
	args := []string{
		"--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--kill-child",
		"--propagation", "private", "--mount-proc=" + s.root + "/proc",
		"/bin/sh", "-c", sandboxSetup, "deb2fs-sandbox", s.root, s.host(), s.bootID,
	}
	cmd := exec.CommandContext(ctx, "unshare", append(args, argv...)...)
	cmd.Env = append(append([]string(nil), s.env...), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err := cmd.Run()
	if err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	return out.Bytes(), nil
}

// host is the sandbox's host name.
func (s *sandbox) host() string {
	if s.hostname == "" {
		return Hostname
	}
	return s.hostname
}

// baseEnv is the environment of maintainer scripts at compose time.
func baseEnv(sourceDateEpoch int64) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root",
		"LC_ALL=C",
		"DEBIAN_FRONTEND=noninteractive",
		"DEBCONF_NONINTERACTIVE_SEEN=true",
		"DEBIAN_PRIORITY=critical",
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", sourceDateEpoch),
	}
}
