package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroup is the sandbox's own cgroup (one directory per hierarchy, under
// the caller's), limiting its processes and memory.
type cgroup struct {
	dirs []string
}

// newCgroup puts the process into a new cgroup with at most pids processes and
// mem bytes of memory: on cgroup v2 one directory, on v1 one in the pids
// and one in the memory hierarchy. It fails where the caller may not make
// one (without root, or a v2 parent whose controllers are not delegated);
// the sandbox then relies on its rlimits.
func newCgroup(pids int, mem int64) (*cgroup, error) {
	pid := os.Getpid()
	name := fmt.Sprintf("deb2fs-sandbox-%d", pid)
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	cg := &cgroup{}
	add := func(dir string, files map[string]string) error {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		cg.dirs = append(cg.dirs, dir)
		for f, v := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
	}
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		err = add(filepath.Join(cgroupRoot, own[""], name), map[string]string{
			"pids.max": strconv.Itoa(pids), "memory.max": strconv.FormatInt(mem, 10)})
	} else {
		err = add(filepath.Join(cgroupRoot, "pids", own["pids"], name), map[string]string{"pids.max": strconv.Itoa(pids)})
		if err == nil {
			err = add(filepath.Join(cgroupRoot, "memory", own["memory"], name), map[string]string{
				"memory.limit_in_bytes": strconv.FormatInt(mem, 10)})
		}
	}
	if err != nil {
		cg.remove()
		return nil, err
	}
	return cg, nil
}

// ownCgroups reads /proc/self/cgroup: the process's cgroup per controller
// ("" for v2's unified hierarchy).
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, sc.Err()
}

// remove deletes the cgroup directories once their processes are gone.
func (cg *cgroup) remove() {
	for _, d := range cg.dirs {
		for i := 0; i < 50; i++ {
			if err := os.Remove(d); err == nil || os.IsNotExist(err) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// removeStaleCgroups removes the empty cgroups of sandboxes whose deb2fs
// was killed.
func removeStaleCgroups() {
	own, err := ownCgroups()
	if err != nil {
		return
	}
	for _, dir := range []string{filepath.Join(cgroupRoot, own[""]), filepath.Join(cgroupRoot, "pids", own["pids"]),
		filepath.Join(cgroupRoot, "memory", own["memory"])} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			rest, ok := strings.CutPrefix(e.Name(), "deb2fs-sandbox-")
			if !ok {
				continue
			}
			if n, err := strconv.Atoi(rest); err == nil && !alive(n) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}

// alive reports whether a process runs (a zombie does not).
func alive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(data), ") ")
	return !strings.HasPrefix(rest, "Z")
}
