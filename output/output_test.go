package output

import "testing"

// TestMountFromMirror: without --mount-from, a push mounts from the
// repository the store's mirror index was published to only when it is on
// the registry pushed to, and is not the repository pushed to.
func TestMountFromMirror(t *testing.T) {
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
		if got := (Registry{Ref: c.ref}).MountFromMirror(c.mirrored).MountFrom; got != c.want {
			t.Errorf("MountFromMirror(%q, %q) = %q, want %q", c.ref, c.mirrored, got, c.want)
		}
	}
}

// A MountFrom given is kept.
func TestMountFromMirrorKeepsGiven(t *testing.T) {
	r := Registry{Ref: "127.0.0.1:5000/apps/web:1", MountFrom: "127.0.0.1:5000/other"}
	if got := r.MountFromMirror("127.0.0.1:5000/deb2fs/bookworm").MountFrom; got != r.MountFrom {
		t.Errorf("MountFrom = %q, want %q", got, r.MountFrom)
	}
}

// TestParse: each --output form gives its kind; a tag from --tag joins it
// unless the output names another.
func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Output
	}{
		{"", Store{}},
		{"oci:/tmp/x", Layout{Dir: "/tmp/x"}},
		{"oci:/tmp/x:web", Layout{Dir: "/tmp/x", Tag: "web"}},
		{"docker-archive:/tmp/a.tar:web", DockerArchive{File: "/tmp/a.tar", Tag: "web"}},
		{"docker://127.0.0.1:5000/apps/web:1", Registry{Ref: "127.0.0.1:5000/apps/web:1"}},
		{"127.0.0.1:5000/apps/web", Registry{Ref: "127.0.0.1:5000/apps/web"}},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"oci:", "containers-storage:x", "web"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
	out, err := WithTag(Layout{Dir: "/x"}, "web")
	if err != nil || out != (Layout{Dir: "/x", Tag: "web"}) {
		t.Errorf("WithTag: %#v, %v", out, err)
	}
	if _, err := WithTag(Layout{Dir: "/x", Tag: "a"}, "b"); err == nil {
		t.Error("WithTag of a second tag: no error")
	}
	if out, _ := WithTag(Registry{Ref: "r.internal/x:1"}, "web"); out.Name() != "web" {
		t.Errorf("WithTag of a push: name %q, want web (the store's tag)", out.Name())
	}
}
