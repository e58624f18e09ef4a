// Package userns runs deb2fs without real root: it re-executes the
// program in a new user namespace in which the invoking user is root and
// the user's subordinate ids (/etc/subuid, /etc/subgid) are ids 1 to N,
// as rootless podman does. There compose can own files as the packages'
// users, mount overlayfs and run maintainer scripts in a chroot, and every
// file it leaves in the store belongs to the user.
package userns

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// envMarker is set in the re-executed process, so it never re-executes
// again.
const envMarker = "DEB2FS_USERNS"

// minIDs is the size of the subordinate range compose needs: Debian's
// packages use ids up to 65534 (nobody).
const minIDs = 65535

// Inside reports whether the process runs in a user namespace other than
// the initial one (whose map is the identity over every id).
func Inside() bool {
	data, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	f := strings.Fields(string(data))
	return !(len(f) == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295")
}

// MapKey names the process's id mapping: "" in the initial namespace, else
// a short hash of its uid and gid maps. Files unpacked under one mapping
// show other owners under another, so caches of unpacked files are kept
// per mapping.
func MapKey() string {
	if !Inside() {
		return ""
	}
	u, _ := os.ReadFile("/proc/self/uid_map")
	g, _ := os.ReadFile("/proc/self/gid_map")
	sum := sha256.Sum256([]byte(strings.Join(strings.Fields(string(u)), " ") + "|" + strings.Join(strings.Fields(string(g)), " ")))
	return hex.EncodeToString(sum[:6])
}

// Needed reports whether the process must re-execute in a user namespace
// to compose: it is not root and not in one already.
func Needed() bool {
	return os.Geteuid() != 0 && !Inside() && os.Getenv(envMarker) == ""
}

// Reexec replaces the process by the same program with the same arguments
// under unshare(1) --user --map-auto --map-root-user --mount. It returns only on
// error: no subordinate ids for the user, no newuidmap, or a kernel that
// refuses unprivileged user namespaces; the error says which and how to
// fix it.
func Reexec() error {
	u, err := user.Current()
	if err != nil {
		return err
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		n, err := subordinate(f, u)
		if err != nil {
			return err
		}
		if n < minIDs {
			return fmt.Errorf("%s gives user %s %d subordinate ids, compose needs %d: run as root, or add a range (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s)",
				f, u.Username, n, minIDs, u.Username)
		}
	}
	for _, tool := range []string{"unshare", "newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed (Debian packages util-linux and uidmap): run as root, or install it", tool)
		}
	}
	// Its own mount namespace too: overlayfs may be mounted only in a
	// mount namespace the user namespace owns (and the mounts vanish with
	// the process).
	args := []string{"--user", "--map-auto", "--map-root-user", "--mount", "--propagation", "private"}
	if out, err := exec.Command("unshare", append(args, "true")...).CombinedOutput(); err != nil {
		return fmt.Errorf("the kernel refuses a user namespace (unshare %s: %v: %s): run as root", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	unshare, _ := exec.LookPath("unshare")
	argv := append(append([]string{"unshare"}, args...), append([]string{"--", self}, os.Args[1:]...)...)
	return syscall.Exec(unshare, argv, append(os.Environ(), envMarker+"=1"))
}

// subordinate returns the size of the first range file (subuid or
// subgid format, NAME_OR_ID:START:COUNT) gives the user.
func subordinate(file string, u *user.User) (int, error) {
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || (parts[0] != u.Username && parts[0] != u.Uid) {
			continue
		}
		n, err := strconv.Atoi(parts[2])
		if err != nil {
			return 0, fmt.Errorf("%s: bad line %q", file, sc.Text())
		}
		return n, nil
	}
	return 0, sc.Err()
}
