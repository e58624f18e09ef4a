package sandbox

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The names the binary runs under when it re-executes itself as the
// sandbox's pid 1 (initName) and as the step between pid 1 and a command
// (execName).
const (
	mountsName = "deb2fs-sandbox-mounts"
	initName   = "deb2fs-sandbox"
	execName   = "deb2fs-sandbox-exec"
)

// The file descriptors pid 1 inherits.
const (
	fdControl = 3
	fdEvents  = 4
)

// outerDir is where the first process mounts the small tmpfs that becomes
// pid 1's root, holding the tree at root/: any directory every id may
// search serves, the mount being private to the sandbox's mount
// namespaces.
const outerDir = "/tmp"

// init turns the process into the sandbox's pid 1 or exec step when it
// was started as one: every binary that links this package (deb2fs, the
// test binaries) can be its own sandbox init, as runc's libcontainer does.
func init() {
	switch os.Args[0] {
	case mountsName:
		runMounts()
	case initName:
		runInit()
	case execName:
		runExec()
	}
}

// runMounts is the sandbox's first process, in a mount namespace of its
// own but still with the caller's ids, which may reach the trees: it
// mounts the root (overlayfs, or a bind of the tree) in a tmpfs owned by
// the sandbox's root, puts itself in the sandbox's cgroup, and starts pid
// 1 in new user, mount, pid, uts, ipc and network namespaces. Mounts made
// here are locked in pid 1's namespace: its root cannot unmount them to
// see what they cover.
func runMounts() {
	runtime.LockOSThread()
	fail := func(err error) {
		json.NewEncoder(os.NewFile(fdEvents, "events")).Encode(event{Kind: "fail", Error: err.Error()})
		os.Exit(1)
	}
	var mc mountsConfig
	if len(os.Args) != 2 || json.Unmarshal([]byte(os.Args[1]), &mc) != nil {
		fail(fmt.Errorf("bad arguments"))
	}
	if err := mountRoot(mc); err != nil {
		fail(err)
	}
	removeStaleCgroups()
	cg, cgErr := newCgroup(mc.Pids, mc.Memory)
	cmd := &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{initName},
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		ExtraFiles: []*os.File{os.NewFile(fdControl, "control"), os.NewFile(fdEvents, "events")},
		Stderr:     os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS |
				unix.CLONE_NEWIPC | unix.CLONE_NEWNET,
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: mc.IDs.Host, Size: mc.IDs.Count}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: 0, HostID: mc.IDs.Host, Size: mc.IDs.Count}},
			GidMappingsEnableSetgroups: true,
			// Root of the namespace: without it the process keeps the
			// caller's ids, which the namespace does not map.
			Credential: &syscall.Credential{Uid: 0, Gid: 0},
			Pdeathsig:  syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		fail(fmt.Errorf("start pid 1: %w", err))
	}
	err := cmd.Wait()
	if cgErr == nil {
		cg.remove()
	}
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// mountRoot makes the tmpfs at outerDir and the root at outerDir/root.
// The trees are opened first (they may lie under outerDir) and named
// through /proc/self/fd, which also fits a hundred lower layers in the
// one page the kernel takes mount options from.
func mountRoot(mc mountsConfig) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	paths := mc.Lower
	if len(paths) > 0 {
		paths = append(append([]string(nil), paths...), mc.Upper, mc.Work)
	} else {
		paths = []string{mc.Root}
	}
	var fds []string
	for _, p := range paths {
		fd, err := unix.Open(p, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", p, err)
		}
		fds = append(fds, "/proc/self/fd/"+strconv.Itoa(fd))
	}
	opts := fmt.Sprintf("mode=0755,size=1m,uid=%d,gid=%d", mc.IDs.Host, mc.IDs.Host)
	if err := unix.Mount("deb2fs-sandbox", outerDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("tmpfs: %w", err)
	}
	root := filepath.Join(outerDir, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return err
	}
	if len(mc.Lower) == 0 {
		if err := unix.Mount(fds[0], root, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind the root %s: %w", mc.Root, err)
		}
		return nil
	}
	n := len(mc.Lower)
	opts = "lowerdir=" + strings.Join(fds[:n], ":") + ",upperdir=" + fds[n] + ",workdir=" + fds[n+1]
	if !isInitialUserNS() {
		// Whiteouts in user.overlay.* xattrs: a user namespace may not
		// write trusted.* ones.
		opts += ",userxattr"
	}
	if len(opts) >= 4096 {
		return fmt.Errorf("%d layers make %d bytes of overlay mount options, more than a page", n, len(opts))
	}
	if err := unix.Mount("deb2fs", root, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay: %w", err)
	}
	return nil
}

// isInitialUserNS reports whether the process runs in the initial user
// namespace.
func isInitialUserNS() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && isIdentity(string(data))
}

// runInit is pid 1: it sets the sandbox up, says "ready", then runs one
// command at a time until its control pipe closes.
func runInit() {
	runtime.LockOSThread()
	// Scripts may signal pid 1; it ignores what they could send it.
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	dec := json.NewDecoder(os.NewFile(fdControl, "control"))
	enc := json.NewEncoder(os.NewFile(fdEvents, "events"))
	var st setup
	if err := dec.Decode(&st); err != nil {
		os.Exit(2)
	}
	if err := prepare(st); err != nil {
		enc.Encode(event{Kind: "fail", Error: err.Error()})
		os.Exit(1)
	}
	enc.Encode(event{Kind: "ready"})
	var mu sync.Mutex
	for {
		var c command
		if err := dec.Decode(&c); err != nil {
			os.Exit(0)
		}
		ev := runCommand(c, st, enc, &mu)
		mu.Lock()
		enc.Encode(ev)
		mu.Unlock()
	}
}

// prepare gives the root its /proc and /dev, and pivots into the tmpfs
// holding it, the old root unmounted.
func prepare(st setup) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	// A mount of this namespace's own to pivot into: the copies of the
	// first process's mounts are locked.
	if err := unix.Mount(outerDir, outerDir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", outerDir, err)
	}
	root := filepath.Join(outerDir, "root")
	if err := mountSystem(outerDir, root, st); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(st.Hostname)); err != nil {
		return fmt.Errorf("host name: %w", err)
	}
	if err := loopbackUp(); err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	old := filepath.Join(outerDir, ".old")
	if err := os.Mkdir(old, 0o700); err != nil {
		return err
	}
	if err := unix.PivotRoot(outerDir, old); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if err := unix.Unmount("/.old", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("unmount the old root: %w", err)
	}
	if err := os.Remove("/.old"); err != nil {
		return err
	}
	// Nothing is written to pid 1's own root any more.
	if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("remount / read-only: %w", err)
	}
	return nil
}

// mountSystem gives the root its /proc (of the sandbox's pid namespace,
// host-wide files masked, /proc/sys read-only) and a minimal /dev whose
// device nodes are the host's harmless ones, bound (a user namespace may
// not make device nodes).
func mountSystem(outer, root string, st setup) error {
	// The mount points come from the layers: a symlink would carry a
	// mount out of the root (still inside this mount namespace, but not
	// where the scripts look).
	for _, d := range []string{"proc", "dev"} {
		if fi, err := os.Lstat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			return fmt.Errorf("the root has no /%s directory to mount on (the base layer ships one)", d)
		}
	}
	proc := filepath.Join(root, "proc")
	if err := unix.Mount("proc", proc, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if st.BootID != "" {
		f := filepath.Join(outer, "boot_id")
		if err := os.WriteFile(f, []byte(st.BootID+"\n"), 0o444); err != nil {
			return err
		}
		if err := unix.Mount(f, filepath.Join(proc, "sys/kernel/random/boot_id"), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("boot id: %w", err)
		}
	}
	sys := filepath.Join(proc, "sys")
	if err := unix.Mount(sys, sys, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind /proc/sys: %w", err)
	}
	if err := unix.Mount("", sys, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("/proc/sys read-only: %w", err)
	}
	for _, p := range []string{"sysrq-trigger", "kcore", "keys", "timer_list", "kmsg", "sched_debug"} {
		if _, err := os.Stat(filepath.Join(proc, p)); err == nil {
			if err := unix.Mount("/dev/null", filepath.Join(proc, p), "", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("mask /proc/%s: %w", p, err)
			}
		}
	}
	dev := filepath.Join(root, "dev")
	if err := unix.Mount("deb2fs-dev", dev, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755,size=64k"); err != nil {
		return fmt.Errorf("mount /dev: %w", err)
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		p := filepath.Join(dev, d)
		if err := os.WriteFile(p, nil, 0o666); err != nil {
			return err
		}
		if err := unix.Mount("/dev/"+d, p, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", d, err)
		}
	}
	for name, target := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			return err
		}
	}
	if err := os.Mkdir(filepath.Join(dev, "pts"), 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(dev, "shm"), 0o1777); err != nil {
		return err
	}
	return os.Chmod(filepath.Join(dev, "shm"), 0o1777|os.ModeSticky)
}

// loopbackUp brings the network namespace's loopback interface up
// (postfix's newaliases wants an active interface).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// limits is what pid 1 tells the exec step.
type limits struct {
	Pids     int
	FileSize int64
}

// runCommand runs one command through the exec step, chrooted into
// /root, and when it ends kills every other process in the sandbox.
func runCommand(c command, st setup, enc *json.Encoder, mu *sync.Mutex) event {
	pr, pw, err := os.Pipe()
	if err != nil {
		return event{Kind: "fail", Error: err.Error()}
	}
	stdin, w, err := os.Pipe()
	if err != nil {
		return event{Kind: "fail", Error: err.Error()}
	}
	w.Close()
	lim, _ := json.Marshal(limits{Pids: st.Pids, FileSize: st.FileSize})
	cmd := &exec.Cmd{
		// Resolved after the chroot: the sandbox's /proc names this
		// binary.
		Path:        "/proc/self/exe",
		Args:        append([]string{execName, string(lim)}, c.Argv...),
		Env:         c.Env,
		Dir:         "/",
		Stdin:       stdin,
		Stdout:      pw,
		Stderr:      pw,
		SysProcAttr: &syscall.SysProcAttr{Chroot: "/root", Setsid: true, Pdeathsig: syscall.SIGKILL},
	}
	copied := make(chan struct{})
	go func() {
		copyEvents(enc, mu, pr)
		close(copied)
	}()
	err = cmd.Start()
	pw.Close()
	stdin.Close()
	if err != nil {
		killAll()
		<-copied
		pr.Close()
		return event{Kind: "fail", Error: fmt.Sprintf("start %s: %v", c.Argv[0], err)}
	}
	var timedOut bool
	var tmu sync.Mutex
	timer := time.AfterFunc(c.Timeout, func() {
		tmu.Lock()
		timedOut = true
		tmu.Unlock()
		unix.Kill(-1, unix.SIGKILL)
	})
	err = cmd.Wait()
	timer.Stop()
	left := killAll()
	<-copied
	pr.Close()
	tmu.Lock()
	ev := event{Kind: "exit", TimedOut: timedOut, Leftover: left}
	tmu.Unlock()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			ws := ee.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				ev.Signal = ws.Signal().String()
			} else {
				ev.Code = ws.ExitStatus()
			}
		} else {
			ev.Code = -1
		}
	}
	return ev
}

// killAll kills every process of the sandbox but pid 1 and reaps them; it
// returns how many there were.
func killAll() int {
	n := 0
	if ents, err := os.ReadDir("/root/proc"); err == nil {
		for _, e := range ents {
			if pid, err := strconv.Atoi(e.Name()); err == nil && pid != 1 {
				n++
			}
		}
	}
	// Kill again after every reap: a process forked while the first kill
	// went round (a fork bomb) is killed by the next.
	for {
		unix.Kill(-1, unix.SIGKILL)
		if _, err := unix.Wait4(-1, nil, 0, nil); err == unix.ECHILD {
			break
		} else if err != nil && err != unix.EINTR {
			break
		}
	}
	return n
}

// runExec is the step between pid 1 and a command, already chrooted: it
// sets the limits, drops capabilities, installs the seccomp filters and
// executes the command.
func runExec() {
	runtime.LockOSThread()
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "deb2fs sandbox: "+format+"\n", args...)
		os.Exit(126)
	}
	if len(os.Args) < 3 {
		fail("no command")
	}
	var lim limits
	if err := json.Unmarshal([]byte(os.Args[1]), &lim); err != nil {
		fail("limits: %v", err)
	}
	argv := os.Args[2:]
	for _, rl := range []struct {
		res int
		max uint64
	}{
		{unix.RLIMIT_NPROC, uint64(lim.Pids)},
		{unix.RLIMIT_FSIZE, uint64(lim.FileSize)},
		{unix.RLIMIT_CORE, 0},
	} {
		if err := unix.Setrlimit(rl.res, &unix.Rlimit{Cur: rl.max, Max: rl.max}); err != nil {
			fail("rlimit %d: %v", rl.res, err)
		}
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "deb2fs sandbox: %v\n", err)
		os.Exit(127)
	}
	if err := dropCaps(); err != nil {
		fail("%v", err)
	}
	if err := loadSeccomp(); err != nil {
		fail("%v", err)
	}
	err = syscall.Exec(path, argv, os.Environ())
	fail("exec %s: %v", path, err)
}
