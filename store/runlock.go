package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrBusy is returned by LockRun when another run holds the store and the
// caller did not ask to wait.
var ErrBusy = errors.New("store is busy")

// BusyError says which process holds a store's run lock.
type BusyError struct {
	Dir string
	PID int // 0 when unknown
}

// Error names the store and the process holding it.
func (e *BusyError) Error() string {
	who := "another process"
	if e.PID > 0 {
		who = "process " + strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("store %s is in use by %s (another mirror run); wait for it to finish or pass --wait", e.Dir, who)
}

// Is makes a BusyError match ErrBusy.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// LockRun takes the store's run lock: at most one mirror run works on a
// store at a time, or any number of shared holders (the shards of one
// sharded run, which write disjoint layers) but then no exclusive one. It
// is a separate lock from the one that guards each index.json update, so a
// run that holds it can still publish. When wait is false and the lock is
// held incompatibly, LockRun fails at once with a *BusyError; otherwise it
// polls until the lock is free or ctx ends. The lock is released by the
// returned function, or by the kernel when the process dies (kill -9
// included).
func (s *Store) LockRun(ctx context.Context, wait, shared bool) (unlock func(), err error) {
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	path := filepath.Join(s.dir, "deb2fs", "run.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("store %s: run lock: %w", s.dir, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("store %s: run lock: %w", s.dir, err)
		}
		if !wait {
			data, _ := os.ReadFile(path)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			f.Close()
			return nil, &BusyError{Dir: s.dir, PID: pid}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("store %s: waiting for the run lock: %w", s.dir, context.Cause(ctx))
		case <-time.After(200 * time.Millisecond):
		}
	}
	// Record the holder for the busy message; the lock, not this text, is
	// what excludes.
	if !shared {
		f.Truncate(0)
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		if !shared {
			f.Truncate(0)
		}
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
