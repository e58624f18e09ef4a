package mirror

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/store"
)

// testRegistry is a Distribution registry (Debian's docker-registry)
// started by the test on 127.0.0.1 with its own configuration.
type testRegistry struct {
	t      *testing.T
	addr   string
	config string
	cmd    *exec.Cmd
}

func startRegistry(t *testing.T) *testRegistry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry is not installed (scripts/install-deps.sh installs it)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: deb2fs-test
`, filepath.Join(dir, "data"), addr)), 0o644)
	r := &testRegistry{t: t, addr: addr, config: cfg}
	_ = bin
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRegistry) start() {
	r.t.Helper()
	r.cmd = exec.Command("docker-registry", "serve", r.config)
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, io.Discard
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + r.addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if i > 100 {
			r.t.Fatalf("registry on %s not ready: %v", r.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *testRegistry) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *testRegistry) remote(t *testing.T) *Remote {
	t.Helper()
	rm, err := NewRemote(r.addr + "/deb2fs/mirror")
	if err != nil {
		t.Fatal(err)
	}
	return rm
}

// TestRegistryMirror mirrors into a Distribution registry: the index and
// the package images are pushed; a rerun is up to date; a run from an
// empty work store (another machine) converts nothing the registry has; an
// archive update pushes only the new package; after the registry's garbage
// collector, every indexed layer still pulls.
func TestRegistryMirror(t *testing.T) {
	reg := startRegistry(t)
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	rm := reg.remote(t)
	now := clock()
	opts := func(work *store.Store) Options {
		o := a.options(work, now, "hello")
		o.Remote = rm
		return o
	}

	sum := mustRun(t, opts(openStore(t)))
	if sum.New != 4 || sum.Pushed != 4 || !sum.Published {
		t.Errorf("first run %+v", sum)
	}
	ix, err := LoadRemoteIndex(ctx, rm.Repo.Tag(LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	layoutStore := openStore(t)
	mustRun(t, a.options(layoutStore, now, "hello"))
	if want := mustLoad(t, layoutStore, LatestRef); !reflect.DeepEqual(ix.Packages, want.Packages) {
		t.Errorf("registry index %v differs from the layout's %v", names(ix), names(want))
	}
	a.takeRequests()

	// A rerun from another, empty work store: up to date.
	sum = mustRun(t, opts(openStore(t)))
	if !sum.UpToDate {
		t.Errorf("rerun %+v", sum)
	}
	// Forced: found in the registry's index, nothing converted or pushed.
	o := opts(openStore(t))
	o.Force = true
	sum = mustRun(t, o)
	if sum.New != 0 || sum.Pushed != 0 || sum.Unchanged != 4 || countPrefix(a.takeRequests(), "/pool/") != 0 {
		t.Errorf("forced rerun from an empty work store %+v", sum)
	}

	// An update: only the new hello is fetched, converted and pushed.
	a.publish(withVersion(basePkgs, "hello", "2.11-1"), suiteOpts{})
	first := ix
	sum = mustRun(t, opts(openStore(t)))
	if sum.New != 1 || sum.Pushed != 1 || countPrefix(a.takeRequests(), "/pool/") != 1 {
		t.Errorf("update %+v", sum)
	}
	old, err := LoadRemoteIndex(ctx, rm.Repo.Tag(DatedRef(first.Created)), rm.Options...)
	if err != nil || find(old, "hello").Version != "2.10-1" {
		t.Errorf("the first dated index: %v", err)
	}

	// Garbage collection keeps every indexed layer (and does remove a blob
	// nothing references, so it did run).
	stray := static.NewLayer([]byte("unreferenced"), types.OCILayer)
	if err := remote.WriteLayer(rm.Repo, stray, rm.Options...); err != nil {
		t.Fatal(err)
	}
	strayDigest, _ := stray.Digest()
	reg.stop()
	if out, err := exec.Command("docker-registry", "garbage-collect", reg.config).CombinedOutput(); err != nil {
		t.Fatalf("garbage-collect: %v\n%s", err, out)
	}
	reg.start()
	if resp, err := http.Head("http://" + reg.addr + "/v2/deb2fs/mirror/blobs/" + strayDigest.String()); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the unreferenced blob survived garbage collection: %v %v", err, resp.Status)
	}
	for _, ref := range []string{LatestRef, DatedRef(first.Created)} {
		ix, err := LoadRemoteIndex(ctx, rm.Repo.Tag(ref), rm.Options...)
		if err != nil {
			t.Fatalf("after garbage collection: %v", err)
		}
		for _, e := range ix.Packages {
			for _, d := range []string{"blobs/" + e.Layer.Digest.String(), "manifests/" + e.Layer.Manifest.String()} {
				req, _ := http.NewRequest(http.MethodHead, "http://"+reg.addr+"/v2/deb2fs/mirror/"+d, nil)
				req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Errorf("%s %s: %s after garbage collection: %v %v", ref, e.Package, d, err, resp.Status)
				}
			}
			l, err := remote.Layer(rm.Repo.Digest(e.Layer.Digest.String()), rm.Options...)
			if err == nil {
				var rc io.ReadCloser
				if rc, err = l.Compressed(); err == nil {
					_, err = io.Copy(io.Discard, rc)
					rc.Close()
				}
			}
			if err != nil {
				t.Errorf("%s: pull %s: %v", e.Package, e.Layer.Digest, err)
			}
		}
	}

	if _, err := exec.LookPath("skopeo"); err == nil {
		out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "docker://"+reg.addr+"/deb2fs/mirror:"+Tag("hello", "2.11-1", "amd64")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"org.deb2fs.package": "hello"`) {
			t.Errorf("skopeo inspect: %v\n%s", err, out)
		}
	}
}

// TestRegistryShards: n shards, each with its own empty work store (n
// machines), push into one registry; a final run converts nothing and
// publishes an index equal to a single process's.
func TestRegistryShards(t *testing.T) {
	reg := startRegistry(t)
	pkgs := append([]tpkg(nil), basePkgs...)
	for i := range 9 {
		pkgs = append(pkgs, tpkg{fmt.Sprintf("extra%d", i), "1.0", "amd64", nil})
	}
	a := newTestArchive(t)
	a.publish(pkgs, suiteOpts{})
	rm := reg.remote(t)
	const n = 3
	var wg sync.WaitGroup
	errs := make([]error, n)
	sums := make([]Summary, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := a.options(openStore(t), clock())
			o.Remote, o.Shard = rm, Shard{I: i, N: n}
			sums[i], errs[i] = Run(ctx, o)
		}()
	}
	wg.Wait()
	pushed := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v", i, errs[i])
		}
		pushed += sums[i].Pushed
	}
	if pushed != len(pkgs) {
		t.Errorf("shards pushed %d images, want %d", pushed, len(pkgs))
	}
	o := a.options(openStore(t), clock())
	o.Remote = rm
	final := mustRun(t, o)
	if final.New != 0 || final.Pushed != 0 || !final.Published || final.Unchanged != len(pkgs) {
		t.Errorf("final run %+v", final)
	}
	got, err := LoadRemoteIndex(ctx, rm.Repo.Tag(LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	single := openStore(t)
	mustRun(t, a.options(single, clock()))
	if want := mustLoad(t, single, LatestRef); !sameContent(got, want) {
		t.Errorf("sharded registry index %v differs from a single layout run's %v", names(got), names(want))
		for i := range got.Packages {
			if i < len(want.Packages) && !reflect.DeepEqual(got.Packages[i], want.Packages[i]) {
				t.Logf("got  %+v\nwant %+v", got.Packages[i], want.Packages[i])
			}
		}
	}
}

// TestRegistryShardProcesses: n deb2fs processes (the built binary), each
// with its own work store, run --shard i/n at once against one registry;
// a final process publishes; its index equals a single process's.
func TestRegistryShardProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deb2fs binary")
	}
	reg := startRegistry(t)
	pkgs := append([]tpkg(nil), basePkgs...)
	for i := range 9 {
		pkgs = append(pkgs, tpkg{fmt.Sprintf("extra%d", i), "1.0", "amd64", nil})
	}
	a := newTestArchive(t)
	a.publish(pkgs, suiteOpts{})
	repo := reg.addr + "/deb2fs/procs"
	cmd := func(extra ...string) *exec.Cmd {
		args := append([]string{"mirror", "--store", repo, "--work", filepath.Join(t.TempDir(), "work"),
			"--archive", a.srv.URL, "--suite", "testing", "--arch", "amd64", "--keyring", a.keyring, "--all", "--json"}, extra...)
		return exec.Command(deb2fsBinary(t), args...)
	}
	const n = 3
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	for i := range n {
		cmds[i] = cmd("--shard", fmt.Sprintf("%d/%d", i, n))
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if err := cmds[i].Wait(); err != nil {
			t.Fatalf("shard %d: %v\n%s", i, err, outs[i].String())
		}
	}
	code, sum, stderr := runCLI(t, cmd())
	if code != 0 || sum["new"] != 0.0 || sum["published"] != true || sum["unchanged"] != float64(len(pkgs)) {
		t.Fatalf("publish step: exit %d, %v\n%s", code, sum, stderr)
	}
	rm, _ := NewRemote(repo)
	got, err := LoadRemoteIndex(ctx, rm.Repo.Tag(LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	single := openStore(t)
	mustRun(t, a.options(single, clock()))
	if want := mustLoad(t, single, LatestRef); !sameContent(got, want) {
		t.Errorf("index of %d shard processes %v differs from a single run's %v", n, names(got), names(want))
	}
}

// TestRegistryKeep: with Keep, older dated index manifests are deleted
// from the registry; the latest and the package images stay.
func TestRegistryKeep(t *testing.T) {
	reg := startRegistry(t)
	a := newTestArchive(t)
	rm := reg.remote(t)
	now := clock()
	var sums []Summary
	for _, v := range []string{"2.10-1", "2.11-1", "2.12-1"} {
		a.publish(withVersion(basePkgs, "hello", v), suiteOpts{})
		o := a.options(openStore(t), now, "hello")
		o.Remote, o.Keep = rm, 1
		sums = append(sums, mustRun(t, o))
	}
	tags, err := remote.List(rm.Repo, rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	var dated []string
	for _, tg := range tags {
		if strings.HasPrefix(tg, DatedRefPrefix) && tg != LatestRef {
			dated = append(dated, tg)
		}
	}
	if !reflect.DeepEqual(dated, []string{sums[2].DatedRef}) {
		t.Errorf("dated tags %v, want only %s", dated, sums[2].DatedRef)
	}
	if _, err := LoadRemoteIndex(ctx, rm.Repo.Tag(sums[0].DatedRef), rm.Options...); err == nil {
		t.Errorf("%s still loads", sums[0].DatedRef)
	}
	if ix, err := LoadRemoteIndex(ctx, rm.Repo.Tag(LatestRef), rm.Options...); err != nil || find(ix, "hello").Version != "2.12-1" {
		t.Errorf("latest: %v", err)
	}
	if _, err := remote.Head(rm.Repo.Tag(Tag("hello", "2.10-1", "amd64")), rm.Options...); err != nil {
		t.Errorf("an old package image was removed: %v", err)
	}
}
