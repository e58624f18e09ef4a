package cli

import "testing"

// TestDefaultMountFrom: without --mount-from, a push mounts from the
// repository the store's mirror index was published to only when it is on
// the registry pushed to, and is not the repository pushed to.
func TestDefaultMountFrom(t *testing.T) {
	for _, c := range []struct{ ref, mirrored, want string }{
		{"127.0.0.1:5000/apps/web:1", "127.0.0.1:5000/deb2fs/bookworm", "127.0.0.1:5000/deb2fs/bookworm"},
		{"127.0.0.1:5000/apps/web", "127.0.0.1:5000/deb2fs/bookworm", "127.0.0.1:5000/deb2fs/bookworm"},
		{"reg.example.internal/apps/web:1", "reg.example.internal/deb2fs/bookworm", "reg.example.internal/deb2fs/bookworm"},
		{"127.0.0.1:5000/apps/web@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "127.0.0.1:5000/deb2fs/bookworm", "127.0.0.1:5000/deb2fs/bookworm"},
		// another registry, or the same one under another name or port
		{"127.0.0.1:5001/apps/web:1", "127.0.0.1:5000/deb2fs/bookworm", ""},
		{"localhost:5000/apps/web:1", "127.0.0.1:5000/deb2fs/bookworm", ""},
		{"other.example.internal/apps/web:1", "reg.example.internal/deb2fs/bookworm", ""},
		// the mirror's repository itself: nothing to mount
		{"127.0.0.1:5000/deb2fs/bookworm:web", "127.0.0.1:5000/deb2fs/bookworm", ""},
		// unparsable
		{"127.0.0.1:5000/Apps/Web:1", "127.0.0.1:5000/deb2fs/bookworm", ""},
		{"127.0.0.1:5000/apps/web:1", "127.0.0.1:5000/Not A Repository", ""},
		{"127.0.0.1:5000/apps/web:1", "", ""},
	} {
		if got := defaultMountFrom(c.ref, c.mirrored); got != c.want {
			t.Errorf("defaultMountFrom(%q, %q) = %q, want %q", c.ref, c.mirrored, got, c.want)
		}
	}
}
