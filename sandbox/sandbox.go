package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults of a sandbox's limits.
const (
	// DefaultTimeout is how long one command may run: a step of compose
	// (every preinst, or dpkg --configure --pending) on a large set takes
	// well under a minute.
	DefaultTimeout = 10 * time.Minute
	// DefaultPids is how many processes a sandbox's ids may have at once.
	DefaultPids = 1024
	// DefaultMemory is how much memory a sandbox may use, where a cgroup
	// can say so.
	DefaultMemory = 4 << 30
	// DefaultFileSize is the largest file a script may write.
	DefaultFileSize = 8 << 30
)

// Config says what a sandbox runs over.
type Config struct {
	// Root is a tree to run over as it is (bound); unused when Lower is
	// set.
	Root string
	// Lower, Upper and Work make the root an overlayfs: the lower
	// directories, the top one first, and the writable upper and work
	// directories (owned by the sandbox's root).
	Lower       []string
	Upper, Work string

	IDs      IDs
	Hostname string
	// BootID, when set, replaces the kernel's boot id in
	// /proc/sys/kernel/random/boot_id.
	BootID string
	// Env is the environment of every command.
	Env []string

	// Timeout is each command's wall-clock limit (0: DefaultTimeout).
	Timeout time.Duration
	// Pids, Memory and FileSize are limits (0: the defaults).
	Pids     int
	Memory   int64
	FileSize int64
}

// Sandbox is a running sandbox: pid 1 waiting for commands.
type Sandbox struct {
	cmd     *exec.Cmd
	ctl     *json.Encoder
	ctlW    *os.File
	events  *json.Decoder
	evR     *os.File
	stderr  *bytes.Buffer
	done    chan error // pid 1's exit
	env     []string
	timeout time.Duration
	mu      sync.Mutex // one command at a time
	closed  bool
	exited  error
}

// mountsConfig is what the sandbox's first process is told (in its
// arguments).
type mountsConfig struct {
	Lower       []string
	Upper, Work string
	Root        string
	IDs         IDs
	Pids        int
	Memory      int64
}

// setup is what pid 1 is told first; command, what it is told after.
type setup struct {
	Hostname string
	BootID   string
	Pids     int
	FileSize int64
}

type command struct {
	Argv    []string
	Env     []string
	Timeout time.Duration
}

// event is what pid 1 reports: "ready" once set up, "fail" when setting up
// failed, "out" for a command's output, "exit" when it ended.
type event struct {
	Kind     string
	Data     []byte `json:",omitempty"`
	Error    string `json:",omitempty"`
	Code     int    `json:",omitempty"`
	Signal   string `json:",omitempty"`
	TimedOut bool   `json:",omitempty"`
	Leftover int    `json:",omitempty"`
}

// Result is how a command ended.
type Result struct {
	Output []byte
	// Leftover counts the processes the command left running, which the
	// sandbox killed when it ended.
	Leftover int
}

// Error is a command that did not succeed: it exited non-zero, was killed
// by a signal, or ran out of time.
type Error struct {
	Argv     []string
	Code     int
	Signal   string
	TimedOut time.Duration // the limit it ran into; 0 when it did not
}

func (e *Error) Error() string {
	cmd := strings.Join(e.Argv, " ")
	if len(cmd) > 80 {
		cmd = cmd[:77] + "..."
	}
	switch {
	case e.TimedOut > 0:
		return fmt.Sprintf("%s: still running after %s: killed with every process of the sandbox", cmd, e.TimedOut)
	case e.Signal != "":
		return fmt.Sprintf("%s: killed by %s", cmd, e.Signal)
	}
	return fmt.Sprintf("%s: exit status %d", cmd, e.Code)
}

// Start starts a sandbox. Close it when done.
func Start(ctx context.Context, cfg Config) (_ *Sandbox, err error) {
	if cfg.IDs.Count == 0 {
		return nil, errors.New("sandbox: no id mapping")
	}
	if len(cfg.Lower) == 0 && cfg.Root == "" {
		return nil, errors.New("sandbox: no root")
	}
	mc, err := json.Marshal(mountsConfig{Lower: cfg.Lower, Upper: cfg.Upper, Work: cfg.Work, Root: cfg.Root, IDs: cfg.IDs,
		Pids: orDefault(cfg.Pids, DefaultPids), Memory: orDefault(cfg.Memory, DefaultMemory)})
	if err != nil {
		return nil, err
	}
	ctlR, ctlW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	evR, evW, err := os.Pipe()
	if err != nil {
		ctlR.Close()
		ctlW.Close()
		return nil, err
	}
	s := &Sandbox{env: cfg.Env, timeout: orDefault(cfg.Timeout, DefaultTimeout), ctlW: ctlW, ctl: json.NewEncoder(ctlW),
		evR: evR, events: json.NewDecoder(evR), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	s.cmd = &exec.Cmd{
		Path:       "/proc/self/exe",
		Args:       []string{mountsName, string(mc)},
		Env:        []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		ExtraFiles: []*os.File{ctlR, evW},
		Stderr:     s.stderr,
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWNS,
			// The kernel kills the sandbox's first process when the
			// thread that started it ends; it passes that on to pid 1,
			// and the kernel kills every process of a pid namespace
			// whose pid 1 dies: nothing outlives deb2fs.
			Pdeathsig: syscall.SIGKILL,
		},
	}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig follows the thread that forked: keep it for the
		// sandbox's whole life.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.done <- s.cmd.Wait()
	}()
	err = <-started
	ctlR.Close()
	evW.Close()
	if err != nil {
		ctlW.Close()
		evR.Close()
		return nil, fmt.Errorf("sandbox: start: %w", err)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() { s.cmd.Process.Kill() })
	defer stop()
	st := setup{Hostname: cfg.Hostname, BootID: cfg.BootID, Pids: orDefault(cfg.Pids, DefaultPids),
		FileSize: orDefault(cfg.FileSize, DefaultFileSize)}
	if err := s.ctl.Encode(st); err != nil {
		return nil, s.died(err)
	}
	var ev event
	if err := s.events.Decode(&ev); err != nil {
		return nil, s.died(err)
	}
	switch ev.Kind {
	case "ready":
		return s, nil
	case "fail":
		return nil, fmt.Errorf("sandbox: %s", ev.Error)
	}
	return nil, fmt.Errorf("sandbox: unexpected %q from pid 1", ev.Kind)
}

func orDefault[T ~int | ~int64](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// died explains a broken pipe to pid 1 by how pid 1 ended.
func (s *Sandbox) died(err error) error {
	if !s.closed {
		select {
		case s.exited = <-s.done:
		case <-time.After(5 * time.Second):
		}
	}
	msg := strings.TrimSpace(s.stderr.String())
	if s.exited != nil {
		err = s.exited
	}
	if msg != "" {
		return fmt.Errorf("sandbox pid 1 ended: %v: %s", err, msg)
	}
	return fmt.Errorf("sandbox pid 1 ended: %v", err)
}

// Root is the sandbox's root as the caller reaches it, through the mount
// namespace that holds it, valid while the sandbox runs. The sandbox's
// own /proc and /dev are not mounted there.
func (s *Sandbox) Root() string {
	return fmt.Sprintf("/proc/%d/root%s", s.cmd.Process.Pid, filepath.Join(outerDir, "root"))
}

// Run runs argv in the sandbox (found through PATH of its environment),
// with env added to the sandbox's environment, and returns what it
// printed (stdout and stderr together). A command that fails gives an
// *Error with its output in the Result.
func (s *Sandbox) Run(ctx context.Context, env []string, argv ...string) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, errors.New("sandbox: closed")
	}
	timeout := s.timeout
	stop := context.AfterFunc(ctx, func() { s.cmd.Process.Kill() })
	defer stop()
	if err := s.ctl.Encode(command{Argv: argv, Env: append(append([]string(nil), s.env...), env...), Timeout: timeout}); err != nil {
		return Result{}, s.died(err)
	}
	var res Result
	for {
		var ev event
		if err := s.events.Decode(&ev); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, s.died(err)
		}
		switch ev.Kind {
		case "out":
			res.Output = append(res.Output, ev.Data...)
		case "exit":
			res.Leftover = ev.Leftover
			if ev.Code == 0 && ev.Signal == "" && !ev.TimedOut {
				return res, nil
			}
			e := &Error{Argv: argv, Code: ev.Code, Signal: ev.Signal}
			if ev.TimedOut {
				e.TimedOut = timeout
			}
			return res, e
		case "fail":
			return res, fmt.Errorf("sandbox: %s", ev.Error)
		}
	}
}

// Close kills the sandbox, every process in it and its mounts, and waits
// for pid 1.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.ctlW.Close()
	s.cmd.Process.Kill()
	s.exited = <-s.done
	s.evR.Close()
	return nil
}

// copyEvents is used by pid 1: it sends what r yields as "out" events.
func copyEvents(enc *json.Encoder, mu *sync.Mutex, r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			mu.Lock()
			enc.Encode(event{Kind: "out", Data: buf[:n]})
			mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}
