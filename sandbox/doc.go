// Package sandbox runs untrusted maintainer scripts against an assembled
// root filesystem, contained: the boundary compose relies on when it runs
// thousands of third-party preinst and postinst scripts.
//
// A sandbox is one long-lived process, pid 1 of fresh user, mount, pid,
// uts, ipc and network namespaces, started by re-executing the current
// binary (every program that links this package can be its own sandbox
// init; see Main). Inside:
//
//   - a user namespace always: sandbox root is host id IDs.Host (a range
//     of 65536 ids nobody owns, or the user's subordinate ids), never the
//     caller; files deb2fs itself wrote show as nobody;
//   - the root is mounted (overlayfs over read-only lower trees, or a bind
//     of an extracted tree) in the sandbox's own mount namespace, so it
//     vanishes with it; pid 1 pivot_roots into a small tmpfs holding it at
//     /root and unmounts the old root: no host path is reachable;
//   - /proc of the sandbox's pid namespace (sysrq-trigger and other
//     host-wide files masked, /proc/sys read-only), a tmpfs /dev with the
//     harmless device nodes bound from the host, no /sys, loopback only,
//     a fixed host name;
//   - each command runs chrooted into /root by a second re-execution that
//     drops CAP_SYS_ADMIN, CAP_SYS_CHROOT, CAP_SYS_PTRACE and every other
//     capability outside Docker's default set from the bounding set, sets
//     no_new_privs, caps processes and file sizes (rlimits), and loads a
//     seccomp filter refusing mount, unshare, setns, namespace clones,
//     ptrace, keyctl, bpf, kexec, module loading and the rest of the list
//     in seccomp.go, and every system call of a foreign ABI;
//   - a wall-clock timeout per command; when a command ends (or times out)
//     pid 1 kills every process left in the namespace, so no daemon a
//     script started outlives its step;
//   - pid 1 dies with its parent (PR_SET_PDEATHSIG), and the kernel kills
//     every process of a pid namespace whose pid 1 dies: nothing survives
//     a killed deb2fs, and its mounts go with it;
//   - a pids and memory limit through a cgroup where the caller may make
//     one (root), the rlimits otherwise.
//
// The host side reads and writes the sandbox's root through
// /proc/PID/root/root (Sandbox.Root) while pid 1 lives.
package sandbox
