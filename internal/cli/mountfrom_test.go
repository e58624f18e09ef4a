package cli_test

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
)

// TestComposeMountFromDefault: a store whose mirror index records the
// registry repository it was published to (as `deb2fs mirror --store
// REGISTRY/REPO --work DIR` leaves its work store). `deb2fs compose
// --store DIR --output docker://REGISTRY/APP:TAG` without --mount-from
// mounts the package layers from that repository; a push to the same
// registry under another name mounts nothing; an explicit --mount-from
// wins. The layers come from the fixtures' cache store; the index is
// hello's closure over the host's lists. Needs root (compose).
func TestComposeMountFromDefault(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	reg, dir, st, es := registryMirror(t)
	mirrorRepo := reg + "/deb2fs/mirror"

	compose := func(ref string, extra ...string) string {
		t.Helper()
		args := append([]string{"compose", "--store", dir, "-o", "docker://" + ref}, extra...)
		o, e, code := run(t, append(args, "hello")...)
		if code != 0 {
			t.Fatalf("deb2fs %s: exit %d\n%s%s", strings.Join(args, " "), code, o, e)
		}
		return e
	}
	mounted := regexp.MustCompile(`compose: pushed (\d+) blobs, mounted (\d+) from (\S+);`)

	// An index without the recorded repository (a layout mirror's, or an
	// older deb2fs's): nothing mounted, nothing said about it.
	if e := compose(reg + "/apps/plain:1"); mounted.MatchString(e) || !strings.Contains(e, "compose: pushed ") {
		t.Errorf("without a recorded repository:\n%s", e)
	}

	// Record the repository on the latest index, as a registry mirror run
	// does.
	d, err := st.Resolve(index.LatestRef)
	if err != nil {
		t.Fatal(err)
	}
	d.Annotations[imagespec.AnnotationMirrorRepository] = mirrorRepo
	if err := st.PublishTagged(nil, []v1.Descriptor{d}); err != nil {
		t.Fatal(err)
	}
	if got, ok := index.RemoteOf(st, ""); !ok || got != mirrorRepo {
		t.Fatalf("RemoteOf = %q, %v", got, ok)
	}

	e := compose(reg + "/apps/hello:1")
	m := mounted.FindStringSubmatch(e)
	if m == nil || m[3] != mirrorRepo {
		t.Fatalf("no mount from %s by default:\n%s", mirrorRepo, e)
	}
	if n, _ := strconv.Atoi(m[2]); n != len(es) {
		t.Errorf("mounted %s layers, want the %d package layers:\n%s", m[2], len(es), e)
	}

	// The same registry under another name: another registry to compose,
	// so no default (the push uploads every blob to the new repository).
	port := reg[strings.LastIndex(reg, ":"):]
	if e := compose("localhost" + port + "/apps/hello3:1"); mounted.MatchString(e) || !strings.Contains(e, "compose: pushed "+strconv.Itoa(len(es)+3)+" blobs; ") {
		t.Errorf("a push to another registry name:\n%s", e)
	}

	// An explicit --mount-from wins.
	other := reg + "/deb2fs/other"
	e = compose(reg+"/apps/hello2:1", "--mount-from", other)
	if m := mounted.FindStringSubmatch(e); m == nil || m[3] != other || m[2] != "0" {
		t.Errorf("--mount-from %s:\n%s", other, e)
	}
}
