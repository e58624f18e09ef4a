package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/internal/registrytest"
	"github.com/deb2fs/deb2fs/output"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// startRegistry starts a registry for the test (registrytest) and
// returns its host:port.
func startRegistry(t *testing.T) string { return registrytest.Start(t).Addr }

// Pushing to a registry uploads only the blobs it lacks: a second image
// that shares its package layers uploads its configure layer and config.
// The pushed image pulls and runs.
func TestPushRegistry(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	addr := startRegistry(t)
	var imgs []*Image
	for i, names := range [][]string{{"nginx", "openssh-server"}, {"nginx"}} {
		req := resolve.Request{Install: names}
		img, err := Compose(context.Background(), Options{Packages: hostSet(t, s, req), Request: req, Store: s,
			Output: output.Registry{Ref: fmt.Sprintf("%s/deb2fs/test:%d", addr, i)}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d layers, %d blobs uploaded, %s", names, len(img.Layers), img.Pushed.Blobs, img.Timings)
		imgs = append(imgs, img)
	}
	if got, want := imgs[0].Pushed.Blobs, len(imgs[0].Layers)+1; got != want {
		t.Errorf("first push uploaded %d blobs, want every layer and the config: %d", got, want)
	}
	if got := imgs[1].Pushed.Blobs; got != 2 {
		t.Errorf("second push uploaded %d blobs, want 2 (configure layer and config)", got)
	}
	if _, err := lookPodman(); err != nil {
		t.Skip(err)
	}
	fixtures.LockPodman(t)
	ref := fmt.Sprintf("%s/deb2fs/test:1", addr)
	podman(t, "pull", "-q", "--tls-verify=false", ref)
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", ref).Run() })
	if got := podmanRun(t, ref, "dpkg", "--audit"); got != "" {
		t.Errorf("dpkg --audit in the pulled image: %s", got)
	}
}

// blobLog records the blob requests of a push: the uploads finished (PUT
// with a digest) and the mount requests (POST with mount=) with the
// registry's answer.
type blobLog struct {
	mu       sync.Mutex
	uploaded []string
	mounts   map[string]int // digest → status of the POST ?mount=
}

func (b *blobLog) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := remote.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, "/blobs/uploads/") {
		return resp, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q := req.URL.Query()
	switch {
	case req.Method == http.MethodPut && q.Get("digest") != "" && resp.StatusCode < 300:
		b.uploaded = append(b.uploaded, q.Get("digest"))
	case req.Method == http.MethodPost && q.Get("mount") != "":
		if b.mounts == nil {
			b.mounts = map[string]int{}
		}
		b.mounts[q.Get("mount")] = resp.StatusCode
	}
	return resp, err
}

// publishPackageLayers puts the package layers of img into the registry
// repository repo, as a registry-backed mirror holds them.
func publishPackageLayers(t *testing.T, s *store.Store, img *Image, repo string) {
	t.Helper()
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	p, err := layout.FromPath(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	li, err := p.Image(img.Manifest.Digest)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range img.Packages {
		l, err := li.LayerByDigest(e.Layer.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.WriteLayer(r, l); err != nil {
			t.Fatal(err)
		}
	}
}

// checkPulled reads the pushed image back: same manifest digest, every
// blob there and matching its digest (and skopeo agrees, when installed).
func checkPulled(t *testing.T, ref string, img *Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	if d, err := got.Digest(); err != nil || d != img.Manifest.Digest {
		t.Fatalf("%s has manifest %v (%v), want %s", ref, d, err, img.Manifest.Digest)
	}
	if err := validate.Image(got, validate.Fast); err != nil {
		t.Fatalf("%s: %v", ref, err)
	}
	if _, err := exec.LookPath("skopeo"); err != nil {
		return
	}
	out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "docker://"+ref).Output()
	if err != nil {
		t.Fatalf("skopeo inspect %s: %v", ref, err)
	}
	var info struct {
		Digest string
		Layers []string
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Digest != img.Manifest.Digest.String() || len(info.Layers) != len(img.Layers) {
		t.Errorf("skopeo inspect %s: digest %s, %d layers; want %s, %d", ref, info.Digest, len(info.Layers), img.Manifest.Digest, len(img.Layers))
	}
}

// With MountFrom naming the repository that holds the package layers, on
// the registry pushed to, every package layer is mounted from it and only
// what compose made is uploaded: the base layer, the configure layer and
// the config. The image reads back identical.
func TestPushMountFrom(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	addr := startRegistry(t)
	req := resolve.Request{Install: []string{"nginx"}}
	opts := Options{Packages: hostSet(t, s, req), Request: req, Store: s}
	img, err := Compose(context.Background(), opts) // into the store
	if err != nil {
		t.Fatal(err)
	}
	mirrorRepo := addr + "/deb2fs/mirror"
	publishPackageLayers(t, s, img, mirrorRepo)

	log := &blobLog{}
	ref := addr + "/deb2fs/app:1"
	opts.Output = output.Registry{Ref: ref, Transport: log, MountFrom: mirrorRepo}
	start := time.Now()
	img, err = Compose(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d layers (%d packages): %d mounted, %d uploaded; %s (push and compose %s)",
		len(img.Layers), len(img.Packages), img.Pushed.Mounted, img.Pushed.Blobs, img.Timings, time.Since(start).Round(time.Millisecond))
	if len(img.Layers) != len(img.Packages)+2 {
		t.Fatalf("%d layers for %d packages: want one layer per package (no groups) + base + configure", len(img.Layers), len(img.Packages))
	}
	var wantMounted []string
	for _, e := range img.Packages {
		wantMounted = append(wantMounted, e.Layer.Digest.String())
	}
	var mounted, refused []string
	for d, status := range log.mounts {
		if status == http.StatusCreated {
			mounted = append(mounted, d)
		} else {
			refused = append(refused, d)
		}
	}
	wantUploaded := []string{img.Layers[0].Digest.String(), img.Layers[len(img.Layers)-1].Digest.String(), img.Config.String()}
	refusedWant := slices.Clone(wantUploaded[:2]) // offered (every layer is), not in the mirror
	for _, l := range [][]string{wantMounted, mounted, refused, refusedWant, wantUploaded, log.uploaded} {
		slices.Sort(l)
	}
	if !slices.Equal(mounted, wantMounted) {
		t.Errorf("mounted %d blobs, want the %d package layers:\n got %v\nwant %v", len(mounted), len(wantMounted), mounted, wantMounted)
	}
	if !slices.Equal(refused, refusedWant) {
		t.Errorf("mounts refused: %v, want the base and configure layers %v", refused, refusedWant)
	}
	if !slices.Equal(log.uploaded, wantUploaded) {
		t.Errorf("uploaded %v, want the base layer, the configure layer and the config %v", log.uploaded, wantUploaded)
	}
	if img.Pushed.Mounted != len(img.Packages) || img.Pushed.Blobs != 3 {
		t.Errorf("PushStats %+v, want Mounted %d, Blobs 3", img.Pushed, len(img.Packages))
	}
	checkPulled(t, ref, img)

	// Again, to another repository that already holds the base layer: it
	// is not uploaded (the registry has it), the package layers are
	// mounted again.
	ref2 := addr + "/deb2fs/app2:1"
	if err := remote.WriteLayer(mustRepo(t, addr+"/deb2fs/app2"), mustLayer(t, s, img, img.Layers[0].Digest)); err != nil {
		t.Fatal(err)
	}
	opts.Output = output.Registry{Ref: ref2, MountFrom: mirrorRepo}
	img2, err := Compose(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("to a repository holding the base layer: %+v", img2.Pushed)
	if img2.Pushed.Mounted != len(img.Packages) || img2.Pushed.Blobs != 2 {
		t.Errorf("push to a repository holding the base layer: %+v, want Mounted %d, Blobs 2", img2.Pushed, len(img.Packages))
	}
	checkPulled(t, ref2, img2)
}

// A MountFrom the registry pushed to cannot mount from still pushes, by
// uploading: one on another registry (here the same registry under
// another name, so a mount would succeed if one were asked for: none is)
// and a repository that does not exist (every mount is asked for and
// refused with 202 Accepted, the upload follows). A MountFrom that is not
// a repository name fails the push.
func TestPushMountFromFallback(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	addr := startRegistry(t)
	_, port, _ := strings.Cut(addr, ":")
	req := resolve.Request{Install: []string{"nginx"}}
	opts := Options{Packages: hostSet(t, s, req), Request: req, Store: s}
	img, err := Compose(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	publishPackageLayers(t, s, img, addr+"/deb2fs/mirror")

	for i, c := range []struct {
		name, from string
		asked      int // mount requests expected
	}{
		{"other registry", "localhost:" + port + "/deb2fs/mirror", 0},
		{"missing repository", addr + "/deb2fs/none", len(img.Layers)},
	} {
		t.Run(c.name, func(t *testing.T) {
			log := &blobLog{}
			ref := fmt.Sprintf("%s/deb2fs/fallback%d:1", addr, i)
			o := opts
			o.Output = output.Registry{Ref: ref, Transport: log, MountFrom: c.from}
			got, err := Compose(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("MountFrom %s: %+v, %d mount requests; write (push) %s", c.from, got.Pushed, len(log.mounts), got.Timings.Write.Round(time.Millisecond))
			if want := (output.PushStats{Blobs: len(got.Layers) + 1}); got.Pushed != want {
				t.Errorf("pushed %+v, want %+v (every layer and the config uploaded)", got.Pushed, want)
			}
			if len(log.mounts) != c.asked {
				t.Errorf("%d mount requests, want %d", len(log.mounts), c.asked)
			}
			for d, status := range log.mounts {
				if status != http.StatusAccepted {
					t.Errorf("mount of %s answered %d, want 202", d, status)
				}
			}
			checkPulled(t, ref, got)
		})
	}

	o := opts
	bad := addr + "/Not A Repository"
	o.Output = output.Registry{Ref: addr + "/deb2fs/bad:1", MountFrom: bad}
	if _, err := Compose(context.Background(), o); err == nil || !strings.Contains(err.Error(), "mount from") {
		t.Errorf("MountFrom %q: err = %v, want a mount-from error", bad, err)
	}
}

func mustRepo(t *testing.T, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustLayer(t *testing.T, s *store.Store, img *Image, d v1.Hash) v1.Layer {
	t.Helper()
	p, err := layout.FromPath(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	li, err := p.Image(img.Manifest.Digest)
	if err != nil {
		t.Fatal(err)
	}
	l, err := li.LayerByDigest(d)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
