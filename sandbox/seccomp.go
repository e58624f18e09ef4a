package sandbox

import (
	"fmt"
	"unsafe"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// denied are the system calls a maintainer script gets EPERM for: the
// ones that change mounts or namespaces, look into or control other
// processes, reach the kernel's keyrings, BPF, modules, kexec, the clock,
// swap, quotas, accounting or the kernel log, and the file-handle and
// io_uring interfaces that have bypassed path checks before. Docker's
// default profile refuses the same (and allows the rest); a script needs
// none of them to configure a package.
var denied = []string{
	"mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
	"keyctl", "add_key", "request_key",
	"bpf", "perf_event_open", "userfaultfd",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "quotactl_fd",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"open_by_handle_at", "name_to_handle_at",
	"iopl", "ioperm", "vhangup", "lookup_dcookie",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
}

// namespaceFlags are the clone(2) flags that make new namespaces.
const namespaceFlags = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC |
	unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// loadSeccomp installs the sandbox's two filters on every thread of the
// process (the one calling execve passes them on): the guard, which fails
// every system call of a foreign ABI (an i386 int 0x80 would otherwise
// reach numbers the policy does not list) and clone3 (whose flags a filter
// cannot read: ENOSYS makes the C library fall back to clone), and the
// policy refusing denied and namespace-making clones. It sets
// no_new_privs, which loading a filter without CAP_SYS_ADMIN requires.
func loadSeccomp() error {
	info, err := arch.GetInfo("")
	if err != nil {
		return err
	}
	if err := seccomp.SetNoNewPrivs(); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	clone3, ok := info.SyscallNames["clone3"]
	if !ok {
		return fmt.Errorf("seccomp: no clone3 on %s", info.Name)
	}
	const enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	guard, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4}, // seccomp_data.arch
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(info.ID), SkipFalse: 3},
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(clone3), SkipTrue: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
		bpf.RetConstant{Val: enosys},
	})
	if err != nil {
		return err
	}
	if err := loadProgram(guard); err != nil {
		return fmt.Errorf("seccomp guard: %w", err)
	}
	policy := seccomp.Filter{
		Flag: seccomp.FilterFlagTSync,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls: []seccomp.SyscallGroup{
				{Action: seccomp.ActionErrno, Names: denied},
				{Action: seccomp.ActionErrno, NamesWithCondtions: []seccomp.NameWithConditions{{
					Name:       "clone",
					Conditions: seccomp.ArgumentConditions{{Argument: 0, Operation: seccomp.BitsSet, Value: namespaceFlags}},
				}}},
			},
		},
	}
	if err := seccomp.LoadFilter(policy); err != nil {
		return fmt.Errorf("seccomp policy: %w", err)
	}
	return nil
}

// loadProgram installs a raw BPF program as a seccomp filter on every
// thread.
func loadProgram(raw []bpf.RawInstruction) error {
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return errno
	}
	return nil
}
