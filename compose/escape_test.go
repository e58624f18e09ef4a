package compose

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/sandbox"
	"github.com/deb2fs/deb2fs/store"
)

// escapeAttempts are the techniques fixtures/escape tries, each of which
// must be reported blocked; the escape program's list is the reference,
// this one makes sure none is silently dropped.
var escapeAttempts = []string{
	"chroot-twice", "proc1-root", "proc1-cwd", "proc1-fd", "proc1-ns", "mount-tmpfs", "remount-root-rw",
	"umount-root", "pivot-root", "open-tree", "unshare-user", "unshare-mount", "clone-namespaces",
	"ptrace-pid1", "process-vm-readv", "open-by-handle", "keyctl", "add-key", "bpf", "perf-event-open",
	"io-uring", "userfaultfd", "reboot", "init-module", "mknod-block", "proc-sys-write", "sethostname",
	"sysrq-trigger", "sys", "tty", "host-loopback", "network-out", "store-write", "host-marker",
}

// A package whose maintainer scripts try every way out of the sandbox
// (fixtures.EscapeDeb) composes, and every attempt was blocked, in the
// preinst step and in dpkg --configure: the image's report says so, no
// marker appears on the host, the host's listener saw no connection, the
// store's blobs all match their digests, the unpacked cache kept
// base-files' /etc/debian_version (the script's write went to the image's
// configure layer only) and no process is left.
func TestSandboxEscapes(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	base := hostSet(t, s, resolve.Request{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted []string
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			accepted = append(accepted, c.RemoteAddr().String())
			mu.Unlock()
			c.Close()
		}
	}()
	defer ln.Close()
	hostDir := t.TempDir()
	tg := fixtures.EscapeTarget{Store: s.Dir(), Marker: filepath.Join(hostDir, "escaped"),
		Port: ln.Addr().(*net.TCPAddr).Port}
	e := handMade(t, s, fixtures.EscapeDeb(t, tg), "deb2fs-escape")
	since := time.Now()

	for _, how := range []configure.Assembly{configure.AssembleOverlay, configure.AssembleExtract} {
		t.Run(string(how), func(t *testing.T) {
			out := t.TempDir()
			img, err := Compose(context.Background(), Options{
				Packages: append(append([]index.Entry(nil), base...), e), Store: s, NoCache: true, Assemble: how,
				SourceDateEpoch: escapeEpoch,
				Output:          output.Layout{Dir: out, Tag: "escape"},
			})
			if err != nil {
				t.Fatal(err)
			}
			last := img.Layers[len(img.Layers)-1]
			files := layerFiles(t, blobPath(out, last.Digest), last)
			for _, script := range []string{"preinst", "postinst"} {
				report, ok := files["var/log/deb2fs-escape/"+script]
				if !ok {
					t.Fatalf("no %s report in the configure layer", script)
				}
				t.Logf("%s:\n%s", script, report)
				for _, a := range escapeAttempts {
					if !strings.Contains(report, "\n"+a+" blocked: ") && !strings.HasPrefix(report, a+" blocked: ") {
						t.Errorf("%s: %s not reported blocked", script, a)
					}
				}
				if strings.Contains(report, "ESCAPED") {
					t.Errorf("%s: an attempt got through", script)
				}
			}
			if !strings.Contains(files["var/log/deb2fs-escape/postinst"], "chroot-twice-perl blocked: ") {
				t.Error("the perl chroot-twice escape is not reported blocked")
			}
			if !strings.Contains(files["etc/debian_version"], "tampered-by-deb2fs-escape") {
				t.Error("the script's write to /etc/debian_version is not in the configure layer")
			}
		})
	}
	if data, err := os.ReadFile(tg.Marker); err == nil {
		t.Errorf("an attempt reached the host: %s", data)
	}
	if ents, _ := os.ReadDir(hostDir); len(ents) != 0 {
		t.Errorf("files appeared in the host directory: %v", ents)
	}
	mu.Lock()
	if len(accepted) != 0 {
		t.Errorf("the host's listener accepted %v", accepted)
	}
	mu.Unlock()
	checkStoreBlobs(t, s, since)
	ids, err := sandbox.DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(rootfs.UnpackedRoot(s, ids), func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "/tree/etc/debian_version") {
			if data, _ := os.ReadFile(p); strings.Contains(string(data), "tampered") {
				t.Errorf("the unpacked cache changed: %s", p)
			}
		}
		return nil
	})
	if left := sandboxProcesses(t, ids, escapeEpoch); len(left) != 0 {
		t.Errorf("processes left running: %v", left)
	}
}

// The SOURCE_DATE_EPOCH of each test's composes: it marks their processes.
const (
	escapeEpoch  = 1700000101
	runawayEpoch = 1700000102
	killedEpoch  = 1700000103
)

// Scripts that never end, leave daemons behind or fork without end are
// contained, and a setuid file a script makes is logged: a script running
// past --script-timeout is killed with its whole tree and the compose fails saying so; a daemon that ignores
// SIGTERM is killed when its command ends and the compose goes on; a fork
// bomb meets the process limit, and is killed. No process is left.
func TestSandboxRunaways(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	base := hostSet(t, s, resolve.Request{})
	ids, err := sandbox.DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	compose := func(t *testing.T, d fixtures.Deb, name string, timeout time.Duration) ([]string, error) {
		var logs []string
		var mu sync.Mutex
		_, err := Compose(context.Background(), Options{
			Packages: append(append([]index.Entry(nil), base...), handMade(t, s, d, name)), Store: s, NoCache: true,
			Output: output.Layout{Dir: t.TempDir()}, ScriptTimeout: timeout, Pids: 256,
			SourceDateEpoch: runawayEpoch,
			Logf: func(format string, args ...any) {
				mu.Lock()
				logs = append(logs, fmt.Sprintf(format, args...))
				mu.Unlock()
			},
		})
		if left := sandboxProcesses(t, ids, runawayEpoch); len(left) != 0 {
			t.Errorf("processes left running: %v", left)
		}
		return logs, err
	}
	t.Run("sleeps-forever", func(t *testing.T) {
		name := "deb2fs-sleeper"
		_, err := compose(t, fixtures.ScriptDeb(name, map[string]string{"postinst": "sleep infinity\n"}), name, 3*time.Second)
		var se *sandbox.Error
		if !errors.As(err, &se) || se.TimedOut == 0 {
			t.Fatalf("got %v, want a timed-out sandbox.Error", err)
		}
		if !strings.Contains(err.Error(), "3s") {
			t.Errorf("the error does not say the limit: %v", err)
		}
	})
	t.Run("daemon-ignores-sigterm", func(t *testing.T) {
		name := "deb2fs-daemon"
		logs, err := compose(t, fixtures.ScriptDeb(name, map[string]string{
			"postinst": "( trap '' TERM HUP INT; exec setsid sleep 100000 ) >/dev/null 2>&1 &\nexit 0\n",
		}), name, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(logs, "\n"), "killed 1 processes") {
			t.Errorf("no word of the killed daemon in the log:\n%s", strings.Join(logs, "\n"))
		}
	})
	t.Run("setuid", func(t *testing.T) {
		name := "deb2fs-setuid"
		logs, err := compose(t, fixtures.ScriptDeb(name, map[string]string{
			"postinst": "chgrp 5 /usr/share/" + name + "\nchmod 6755 /usr/share/" + name + "\n",
		}), name, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := "configure layer: /usr/share/" + name + " is setuid 0, setgid 5 (mode 6755), made or changed by a maintainer script"
		if !strings.Contains(strings.Join(logs, "\n"), want) {
			t.Errorf("no %q in the log:\n%s", want, strings.Join(logs, "\n"))
		}
	})
	t.Run("fork-bomb", func(t *testing.T) {
		name := "deb2fs-forkbomb"
		_, err := compose(t, fixtures.ScriptDeb(name, map[string]string{
			"postinst": "bomb() { bomb | bomb & }\nbomb\nwait\n",
		}), name, time.Minute)
		var se *configure.ScriptError
		if !errors.As(err, &se) || !strings.Contains(se.Output, "Cannot fork") {
			t.Fatalf("got %v, want a configure.ScriptError whose output says the script cannot fork", err)
		}
	})
}

// killedChild marks the re-executed test binary TestComposeKilled kills.
const killedChild = "DEB2FS_TEST_KILLED_CHILD"

// A compose killed with SIGKILL while a maintainer script runs leaves no
// process behind (the sandbox's stages die with their parent, the
// kernel's pid namespace takes the scripts along) and no mount on the
// host; the next compose removes its work area.
func TestComposeKilled(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	base := hostSet(t, s, resolve.Request{})
	name := "deb2fs-killed-sleeper"
	if os.Getenv(killedChild) == "1" {
		_, err := Compose(context.Background(), Options{
			Packages: append(append([]index.Entry(nil), base...),
				handMade(t, s, fixtures.ScriptDeb(name, map[string]string{"postinst": "sleep 100000\n"}), name)),
			Store: s, NoCache: true, Output: output.Layout{Dir: t.TempDir()}, SourceDateEpoch: killedEpoch,
		})
		t.Fatalf("the compose was not killed: %v", err)
	}
	ids, err := sandbox.DefaultIDs()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestComposeKilled$")
	child.Env = append(os.Environ(), killedChild+"=1")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	for i := 0; ; i++ {
		if p := sandboxProcesses(t, ids, killedEpoch); len(p) > 0 && strings.Contains(strings.Join(p, " "), "sleep 100000") {
			break
		}
		if i > 1200 {
			t.Fatal("the child's postinst did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The sandbox's stages, children of the child and of each other.
	stages := descendants(child.Process.Pid)
	if len(stages) < 3 {
		t.Errorf("only %v below the child: want the sandbox's stages and the scripts", stages)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	if left := sandboxProcesses(t, ids, killedEpoch); len(left) != 0 {
		t.Errorf("scripts left running: %v", left)
	}
	for try := 0; ; try++ {
		var left []string
		for pid, cmdline := range stages {
			if now, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil && string(now) == cmdline {
				left = append(left, fmt.Sprintf("%d %q", pid, cmdline))
			}
		}
		if len(left) == 0 {
			break
		}
		if try == 50 {
			t.Errorf("processes of the killed compose left running: %v", left)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	prefix := configure.RootPrefix + strconv.Itoa(child.Process.Pid) + "-"
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mi), prefix) {
		t.Errorf("a mount of the killed compose's work area is left on the host")
	}
	configure.RemoveStaleRoots(configure.DefaultWorkDir())
	if m, _ := filepath.Glob(filepath.Join(configure.DefaultWorkDir(), prefix+"*")); len(m) != 0 {
		t.Errorf("the killed compose's work area survived the next cleanup: %v", m)
	}
}

// descendants maps the processes below pid to their command lines.
func descendants(pid int) map[int]string {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		status, _ := os.ReadFile("/proc/" + e.Name() + "/status")
		for _, l := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(l, "PPid:"); ok {
				parent[p], _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
	}
	out := map[int]string{}
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
				out[p] = string(cmdline)
				break
			}
		}
	}
	return out
}

// layerFiles reads a layer's regular files.
func layerFiles(t *testing.T, blob string, l v1.Descriptor) map[string]string {
	t.Helper()
	rc, err := rootfs.OpenLayer(blob, l.MediaType)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	files := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(hdr.Name, "./")] = string(data)
		}
	}
}

// checkStoreBlobs hashes every blob of the store written since the given
// time (the others were checked by whoever wrote them): each must match
// its name.
func checkStoreBlobs(t *testing.T, s *store.Store, since time.Time) {
	t.Helper()
	dir := filepath.Join(s.Dir(), "blobs", "sha256")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil || fi.ModTime().Before(since) {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != e.Name() {
			t.Errorf("store blob %s does not match its digest (%v)", e.Name(), err)
		}
	}
}

// sandboxProcesses lists the host's processes running as one of the
// sandbox's ids with SOURCE_DATE_EPOCH=sde in their environment (the
// compose under test: other test binaries compose at the same time),
// waiting a moment for ones being killed.
func sandboxProcesses(t *testing.T, ids sandbox.IDs, sde int64) []string {
	t.Helper()
	var left []string
	for try := 0; try < 50; try++ {
		left = left[:0]
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			var st syscall.Stat_t
			if syscall.Stat("/proc/"+e.Name(), &st) != nil {
				continue
			}
			if _, ok := ids.Unshift(int(st.Uid)); !ok {
				continue
			}
			env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
			if !strings.Contains("\x00"+string(env), "\x00SOURCE_DATE_EPOCH="+strconv.FormatInt(sde, 10)+"\x00") {
				continue
			}
			cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
			left = append(left, fmt.Sprintf("%d %q", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
		}
		if len(left) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return left
}
