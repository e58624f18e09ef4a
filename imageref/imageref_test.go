package imageref

import (
	"strings"
	"testing"
)

// TestParse covers every form, and the inputs the four parsers it replaces
// (inspect's Open, mirror.LooksLikeRegistry, compose.ParseOutput and
// update's output) disagreed on: inspect took any '/' for a registry
// (apps/web, ./dir, /abs/dir, docker-archive:/x.tar), LooksLikeRegistry
// took a ':' before the first '/' for a registry port (oci:/x,
// docker://host/repo).
func TestParse(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		in   string
		want Ref
		err  string // a substring of the error; "" for none
	}{
		// Names: tags and digests in the store, or directories.
		{in: "", want: Ref{}},
		{in: "hello", want: Ref{Path: "hello"}},
		{in: "compose-hello", want: Ref{Path: "compose-hello"}},
		{in: "nginx:latest", want: Ref{Path: "nginx:latest"}},
		{in: digest, want: Ref{Path: digest}},
		{in: "apps/web", want: Ref{Path: "apps/web"}},                   // inspect: Docker Hub; LooksLikeRegistry: a directory
		{in: "library/debian:12", want: Ref{Path: "library/debian:12"}}, // inspect: Docker Hub
		{in: "./out.d/x", want: Ref{Path: "./out.d/x"}},                 // inspect: a registry (a parse error)
		{in: "../x", want: Ref{Path: "../x"}},
		{in: ".cache/deb2fs", want: Ref{Path: ".cache/deb2fs"}},
		{in: "~/store", want: Ref{Path: "~/store"}},
		{in: "/var/cache/deb2fs", want: Ref{Path: "/var/cache/deb2fs"}}, // inspect: a registry (a parse error)
		{in: "store", want: Ref{Path: "store"}},

		// OCI layouts.
		{in: "oci:/tmp/out:app", want: Ref{OCI, "/tmp/out", "app"}},
		{in: "oci:/tmp/out", want: Ref{OCI, "/tmp/out", ""}}, // LooksLikeRegistry: a registry "oci:"
		{in: "oci:out:" + digest, want: Ref{OCI, "out", digest}},
		{in: "oci:out", want: Ref{OCI, "out", ""}},
		{in: "oci:", err: "names no directory"},
		{in: "oci::tag", err: "names no directory"},

		// docker-archive.
		{in: "docker-archive:/tmp/site.tar", want: Ref{DockerArchive, "/tmp/site.tar", ""}}, // inspect: a registry (a parse error)
		{in: "docker-archive:site.tar:site", want: Ref{DockerArchive, "site.tar", "site"}},
		{in: "docker-archive:", err: "names no file"},

		// Registries, explicit.
		{in: "docker://127.0.0.1:5000/apps/web:1", want: Ref{Registry, "127.0.0.1:5000/apps/web:1", ""}}, // LooksLikeRegistry: true, then a parse error
		{in: "docker://library/debian", want: Ref{Registry, "library/debian", ""}},
		{in: "docker://localhost/app@" + digest, want: Ref{Registry, "localhost/app@" + digest, ""}},
		{in: "docker://", err: "docker://"},
		{in: "docker://Example.com/App", err: "App"},

		// Registries, by their first path component.
		{in: "127.0.0.1:5000/deb2fs/mirror", want: Ref{Registry, "127.0.0.1:5000/deb2fs/mirror", ""}},
		{in: "localhost:5000/app:v1", want: Ref{Registry, "localhost:5000/app:v1", ""}},
		{in: "localhost/app", want: Ref{Registry, "localhost/app", ""}},
		{in: "registry.example/team/app@" + digest, want: Ref{Registry, "registry.example/team/app@" + digest, ""}},
		{in: "myhost:5000/app", want: Ref{Registry, "myhost:5000/app", ""}},
		{in: "localhost", want: Ref{Path: "localhost"}}, // no repository: a name
		{in: "registry.example/UPPER", err: "UPPER"},

		// Transports deb2fs does not have.
		{in: "containers-storage:localhost/app", err: "containers-storage"},
		{in: "docker-daemon:app:latest", err: "docker-daemon"},
		{in: "oci-archive:/tmp/x.tar", err: "oci-archive"},
	} {
		got, err := Parse(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) = %+v, %v; want an error with %q", c.in, got, err, c.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v", c.in, err)
		case got != c.want:
			t.Errorf("Parse(%q) = %+v, want %+v", c.in, got, c.want)
		default:
			// String gives back a reference that parses the same.
			again, err := Parse(got.String())
			if err != nil || again != got {
				t.Errorf("Parse(%q).String() = %q, which parses to %+v, %v", c.in, got.String(), again, err)
			}
		}
	}
}

func TestReference(t *testing.T) {
	r, _ := Parse("127.0.0.1:5000/apps/web:1")
	ref, err := r.Reference()
	if err != nil || ref.Context().RegistryStr() != "127.0.0.1:5000" || ref.Context().RepositoryStr() != "apps/web" || ref.Identifier() != "1" {
		t.Errorf("Reference() = %v, %v", ref, err)
	}
	if _, err := (Ref{Transport: OCI, Path: "x"}).Reference(); err == nil {
		t.Error("an OCI ref has a registry reference")
	}
}
