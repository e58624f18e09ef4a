package userns

import (
	"os"
	"os/user"
	"path/filepath"
	"testing"
)

// subordinate finds the user's range by name or by uid, and reports none
// for a user the file does not list or a missing file.
func TestSubordinate(t *testing.T) {
	f := filepath.Join(t.TempDir(), "subuid")
	os.WriteFile(f, []byte("alice:100000:65536\n1001:200000:1000\nbad line\n"), 0o644)
	for _, tc := range []struct {
		u    user.User
		want int
	}{
		{user.User{Username: "alice", Uid: "1000"}, 65536},
		{user.User{Username: "bob", Uid: "1001"}, 1000},
		{user.User{Username: "carol", Uid: "1002"}, 0},
	} {
		if n, err := subordinate(f, &tc.u); err != nil || n != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.u.Username, n, err, tc.want)
		}
	}
	if n, err := subordinate(filepath.Join(t.TempDir(), "none"), &user.User{Username: "alice"}); n != 0 || err != nil {
		t.Errorf("missing file: %d, %v", n, err)
	}
}

// The test process runs in the initial user namespace: no mapping key,
// and root needs no re-execution.
func TestInitialNamespace(t *testing.T) {
	if Inside() {
		t.Skip("the tests run in a user namespace")
	}
	if MapKey() != "" {
		t.Errorf("MapKey() = %q in the initial namespace", MapKey())
	}
	if os.Geteuid() == 0 && Needed() {
		t.Error("root needs no user namespace")
	}
}
