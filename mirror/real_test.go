package mirror

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// The real test talks only to the archive the host's apt sources name, and
// only to the sources verified by the default archive keyring (third-party
// sources on the host are left out).

func debianSources(t *testing.T) []aptsources.Source {
	t.Helper()
	srcs, _, err := aptsources.LoadSources("/")
	if err != nil {
		t.Fatal(err)
	}
	var out []aptsources.Source
	for _, s := range srcs {
		if s.SignedBy == "" || s.SignedBy == aptsources.DefaultKeyring {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		t.Skip("no apt source signed by the default archive keyring on this host")
	}
	return out
}

// TestRealMirror mirrors the closure of nginx and openssh-server from the
// host's archive into an OCI layout, reruns it (nothing downloaded, within
// 2 s), and reads a package image back with skopeo and umoci.
func TestRealMirror(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 30 MB from the host's archive")
	}
	srcs := debianSources(t)
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: st, Sources: srcs, Packages: []string{"nginx", "openssh-server"}}
	cold, err := Run(ctx, o)
	if err != nil {
		t.Fatalf("cold run: %v", err)
	}
	t.Logf("cold: %d packages, %d new, %.1f MB downloaded, %.1f MB stored, %.2f s",
		cold.Packages, cold.New, float64(cold.BytesDownloaded)/1e6, float64(cold.BytesStored)/1e6, cold.Seconds)
	if cold.New != cold.Packages || cold.Packages < 80 || cold.Failed != 0 || !cold.Published {
		t.Errorf("cold summary %+v", cold)
	}
	start := time.Now()
	ix, err := index.Load(st, index.LatestRef)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("index load: %d packages in %s", len(ix.Packages), time.Since(start))
	var have []string
	for _, e := range ix.Packages {
		have = append(have, e.Package)
		if e.Origin < 0 || e.Origin >= len(ix.Origins) || !st.HasBlob(e.Layer.Digest) || !st.HasBlob(e.Layer.Manifest) {
			t.Errorf("%s: bad origin or missing blob: %+v", e.Package, e)
		}
	}
	for _, n := range []string{"nginx", "openssh-server", "base-files", "dpkg", "libc6", "usr-is-merged"} {
		if !slices.Contains(have, n) {
			t.Errorf("index lacks %s", n)
		}
	}
	for _, og := range ix.Origins {
		if og.Signer == "" || og.Codename == "" || og.Date.IsZero() {
			t.Errorf("origin %+v", og)
		}
	}

	warm, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("warm: %.3f s, up to date %v", warm.Seconds, warm.UpToDate)
	if !warm.UpToDate || warm.BytesDownloaded != 0 || warm.New != 0 || warm.Duration > 2*time.Second {
		t.Errorf("warm rerun %+v, want up to date in at most 2 s", warm)
	}
	o.Force = true
	forced, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forced rerun (full load and diff, no download): %.2f s", forced.Seconds)
	if forced.BytesDownloaded != 0 || forced.New != 0 || forced.Unchanged != cold.Packages {
		t.Errorf("forced rerun %+v", forced)
	}

	// Independent readers.
	var nginx *index.Entry
	for i := range ix.Packages {
		if ix.Packages[i].Package == "nginx" {
			nginx = &ix.Packages[i]
		}
	}
	d, err := st.Resolve(nginx.Layer.Manifest.String())
	if err != nil {
		t.Fatal(err)
	}
	ref := d.Annotations[imagespec.AnnotationRefName]
	if _, err := exec.LookPath("skopeo"); err == nil {
		out, err := exec.Command("skopeo", "inspect", "oci:"+st.Dir()+":"+ref).Output()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v", ref, err)
		}
		var info struct {
			Layers []string
			Labels map[string]string
		}
		json.Unmarshal(out, &info)
		if len(info.Layers) != 1 || info.Layers[0] != nginx.Layer.Digest.String() || info.Labels[imagespec.AnnotationVersion] != nginx.Version {
			t.Errorf("skopeo sees %+v, want layer %s", info, nginx.Layer.Digest)
		}
	} else {
		t.Log("skopeo not installed; skipped")
	}
	if _, err := exec.LookPath("umoci"); err == nil {
		bundle := filepath.Join(t.TempDir(), "bundle")
		if out, err := exec.Command("umoci", "unpack", "--image", st.Dir()+":"+ref, bundle).CombinedOutput(); err != nil {
			t.Fatalf("umoci unpack %s: %v\n%s", ref, err, out)
		}
		for _, f := range []string{"usr/sbin/nginx", "var/lib/dpkg/status.d/nginx"} {
			if _, err := os.Stat(filepath.Join(bundle, "rootfs", f)); err != nil {
				t.Errorf("umoci bundle: %v", err)
			}
		}
	} else {
		t.Log("umoci not installed; skipped")
	}
}

// TestRealMirrorRegistry mirrors the same closure into a docker-registry
// started on 127.0.0.1 (converting into a work layout, then pushing), reruns
// it (up to date), runs the registry's garbage collector, and pulls every
// indexed layer.
func TestRealMirrorRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads about 30 MB from the host's archive")
	}
	srcs := debianSources(t)
	reg := startRegistry(t)
	rm := reg.remote(t)
	work, err := store.Open(filepath.Join(t.TempDir(), "work"))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: work, Remote: rm, Sources: srcs, Packages: []string{"nginx", "openssh-server"}}
	cold, err := Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold into the registry: %d packages, %d pushed, %.1f MB downloaded, %.2f s", cold.Packages, cold.Pushed,
		float64(cold.BytesDownloaded)/1e6, cold.Seconds)
	if cold.Pushed != cold.Packages || !cold.Published {
		t.Errorf("cold %+v", cold)
	}
	checkLocalCopy(t, rm, work, cold.Index) // compose --store WORK reads it
	warm, err := Run(ctx, Options{Store: openStoreAt(t), Remote: rm, Sources: srcs, Packages: o.Packages})
	if err != nil || !warm.UpToDate || warm.Duration > 2*time.Second {
		t.Errorf("warm rerun from an empty work store: %v %+v", err, warm)
	}
	reg.GarbageCollect(t)
	ix, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ix.Packages {
		l, err := remote.Layer(rm.Repo.Digest(e.Layer.Digest.String()), rm.Options...)
		if err == nil {
			var rc io.ReadCloser
			if rc, err = l.Compressed(); err == nil {
				_, err = io.Copy(io.Discard, rc) // digest-verified
				rc.Close()
			}
		}
		if err != nil {
			t.Errorf("%s: pull %s after garbage collection: %v", e.Package, e.Layer.Digest, err)
		}
	}
	if _, err := exec.LookPath("skopeo"); err == nil {
		ref := "docker://" + reg.Addr + "/deb2fs/mirror:" + Tag("openssh-server", find(ix, "openssh-server").Version, find(ix, "openssh-server").Architecture)
		if out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", ref).CombinedOutput(); err != nil {
			t.Errorf("skopeo inspect %s: %v\n%s", ref, err, out)
		}
	}
}

func openStoreAt(t *testing.T) *store.Store {
	st, err := store.Open(filepath.Join(t.TempDir(), "work"))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestRealBenchMmdebstrap (DEB2FS_BENCH_MMDEBSTRAP=1) times a cold mirror of
// the closure of nginx and openssh-server and, in the same run,
// `mmdebstrap --variant=apt` of the same packages from the same apt
// sources, for docs/mirror.md.
func TestRealBenchMmdebstrap(t *testing.T) {
	if os.Getenv("DEB2FS_BENCH_MMDEBSTRAP") == "" {
		t.Skip("set DEB2FS_BENCH_MMDEBSTRAP=1")
	}
	if _, err := exec.LookPath("mmdebstrap"); err != nil {
		t.Skip("mmdebstrap is not installed")
	}
	srcs := debianSources(t)
	st := openStoreAt(t)
	sum, err := Run(ctx, Options{Store: st, Sources: srcs, Packages: []string{"nginx", "openssh-server"}})
	if err != nil {
		t.Fatal(err)
	}
	ix := mustLoad(t, st, index.LatestRef)
	t.Logf("deb2fs mirror: %d packages, %.2f s, %.1f MB downloaded, %.1f MB stored, phases %v",
		sum.Packages, sum.Seconds, float64(sum.BytesDownloaded)/1e6, float64(sum.BytesStored)/1e6, sum.Phases)
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	if l, err := filepath.Glob("/etc/apt/sources.list"); err == nil {
		files = append(files, l...)
	}
	args := append([]string{"--quiet", "--variant=apt", "--include=nginx,openssh-server", ix.Origins[0].Codename,
		filepath.Join(t.TempDir(), "root.tar")}, files...)
	start := time.Now()
	if out, err := exec.Command("mmdebstrap", args...).CombinedOutput(); err != nil {
		t.Fatalf("mmdebstrap: %v\n%s", err, out)
	}
	t.Logf("mmdebstrap --variant=apt: %.2f s", time.Since(start).Seconds())
}
