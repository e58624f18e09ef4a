package mirror

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/registrytest"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/deb2fs/deb2fs/store"
)

// testRegistry is a registry started by the test (registrytest).
type testRegistry struct{ *registrytest.Registry }

func startRegistry(t *testing.T) *testRegistry { return &testRegistry{registrytest.Start(t)} }

func (r *testRegistry) remote(t *testing.T) *Remote {
	t.Helper()
	rm, err := NewRemote(r.Addr + "/deb2fs/mirror")
	if err != nil {
		t.Fatal(err)
	}
	return rm
}

// checkLocalCopy checks that the work store st lists the registry's latest
// index: the same manifest (byte for byte) and blob, under LatestRef and
// its dated ref, both recording the repository (RemoteOf).
func checkLocalCopy(t *testing.T, rm *Remote, st *store.Store, wantIndex string) *index.Index {
	t.Helper()
	d, err := remote.Get(rm.Repo.Tag(index.LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	if wantIndex != "" && d.Digest.String() != wantIndex {
		t.Errorf("registry %s is %s, want %s", index.LatestRef, d.Digest, wantIndex)
	}
	remoteIx, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{index.LatestRef, index.DatedRef(remoteIx.Created)} {
		ld, err := st.Resolve(ref)
		if err != nil {
			t.Errorf("work store %s: %v", ref, err)
			continue
		}
		if ld.Digest != d.Digest {
			t.Errorf("work store %s is %s, the registry's %s is %s", ref, ld.Digest, index.LatestRef, d.Digest)
		}
		if got, ok := index.RemoteOf(st, ref); !ok || got != rm.Repo.String() {
			t.Errorf("RemoteOf(work store, %s) = %q, %v; want %q", ref, got, ok, rm.Repo.String())
		}
	}
	if data, err := os.ReadFile(st.BlobPath(d.Digest)); err != nil || string(data) != string(d.Manifest) {
		t.Errorf("the work store's index manifest differs from the registry's: %v", err)
	}
	ix := mustLoad(t, st, index.LatestRef)
	if !reflect.DeepEqual(ix, remoteIx) {
		t.Errorf("the work store's index %v differs from the registry's %v", names(ix), names(remoteIx))
	}
	if got, ok := index.RemoteOf(st, ""); !ok || got != rm.Repo.String() {
		t.Errorf(`index.RemoteOf(work store, "") = %q, %v`, got, ok)
	}
	return ix
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

	work := openStore(t)
	sum := mustRun(t, opts(work))
	if sum.New != 4 || sum.Pushed != 4 || !sum.Published {
		t.Errorf("first run %+v", sum)
	}
	ix, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	// The work store lists the same index, so compose --store WORK reads
	// it, and records the repository.
	checkLocalCopy(t, rm, work, sum.Index)
	if sum.DatedRef != index.DatedRef(ix.Created) {
		t.Errorf("dated ref %s, index created %s", sum.DatedRef, ix.Created)
	}
	layoutStore := openStore(t)
	mustRun(t, a.options(layoutStore, now, "hello"))
	if want := mustLoad(t, layoutStore, index.LatestRef); !reflect.DeepEqual(ix.Packages, want.Packages) {
		t.Errorf("registry index %v differs from the layout's %v", names(ix), names(want))
	}
	if repo, ok := index.RemoteOf(layoutStore, ""); ok {
		t.Errorf("RemoteOf(a layout mirror) = %q", repo)
	}
	a.TakeRequests()

	// A rerun from another, empty work store: up to date, and that work
	// store gets the index too.
	other := openStore(t)
	sum = mustRun(t, opts(other))
	if !sum.UpToDate {
		t.Errorf("rerun %+v", sum)
	}
	checkLocalCopy(t, rm, other, sum.Index)
	// Forced: found in the registry's index, nothing converted or pushed.
	o := opts(openStore(t))
	o.Force = true
	sum = mustRun(t, o)
	if sum.New != 0 || sum.Pushed != 0 || sum.Unchanged != 4 || countPrefix(a.TakeRequests(), "/pool/") != 0 {
		t.Errorf("forced rerun from an empty work store %+v", sum)
	}

	// An update: only the new hello is fetched, converted and pushed.
	a.publish(withVersion(basePkgs, "hello", "2.11-1"), suiteOpts{})
	first := ix
	sum = mustRun(t, opts(work))
	if sum.New != 1 || sum.Pushed != 1 || countPrefix(a.TakeRequests(), "/pool/") != 1 {
		t.Errorf("update %+v", sum)
	}
	// The work store's latest moved; its first dated copy stayed.
	if find(checkLocalCopy(t, rm, work, sum.Index), "hello").Version != "2.11-1" {
		t.Error("the work store's latest index is not the update")
	}
	if d, err := work.Resolve(index.DatedRef(first.Created)); err != nil || find(mustLoad(t, work, d.Digest.String()), "hello").Version != "2.10-1" {
		t.Errorf("the work store's first dated index: %v", err)
	}
	old, err := index.LoadRemote(ctx, rm.Repo.Tag(index.DatedRef(first.Created)), rm.Options...)
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
	reg.GarbageCollect(t)
	if resp, err := http.Head("http://" + reg.Addr + "/v2/deb2fs/mirror/blobs/" + strayDigest.String()); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("the unreferenced blob survived garbage collection: %v %v", err, resp.Status)
	}
	for _, ref := range []string{index.LatestRef, index.DatedRef(first.Created)} {
		ix, err := index.LoadRemote(ctx, rm.Repo.Tag(ref), rm.Options...)
		if err != nil {
			t.Fatalf("after garbage collection: %v", err)
		}
		for _, e := range ix.Packages {
			for _, d := range []string{"blobs/" + e.Layer.Digest.String(), "manifests/" + e.Layer.Manifest.String()} {
				req, _ := http.NewRequest(http.MethodHead, "http://"+reg.Addr+"/v2/deb2fs/mirror/"+d, nil)
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
		out, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "docker://"+reg.Addr+"/deb2fs/mirror:"+Tag("hello", "2.11-1", "amd64")).CombinedOutput()
		if err != nil || !strings.Contains(string(out), `"`+imagespec.AnnotationPackage+`": "hello"`) {
			t.Errorf("skopeo inspect: %v\n%s", err, out)
		}
	}
}

// TestRegistryShards: n shards, each with its own empty work store (n
// machines), push into one registry; a final run converts nothing and
// publishes an index equal to a single process's.
func TestRegistryShards(t *testing.T) {
	reg := startRegistry(t)
	pkgs := shardPkgs()
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
	got, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	single := openStore(t)
	mustRun(t, a.options(single, clock()))
	if want := mustLoad(t, single, index.LatestRef); !sameContent(got, want) {
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
	pkgs := shardPkgs()
	a := newTestArchive(t)
	a.publish(pkgs, suiteOpts{})
	repo := reg.Addr + "/deb2fs/procs"
	cmd := func(extra ...string) *exec.Cmd {
		args := append([]string{"mirror", "--store", repo, "--work", filepath.Join(t.TempDir(), "work"),
			"--archive", a.URL, "--suite", "testing", "--arch", "amd64", "--keyring", a.Keyring, "--all", "--json"}, extra...)
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
	got, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	single := openStore(t)
	mustRun(t, a.options(single, clock()))
	if want := mustLoad(t, single, index.LatestRef); !sameContent(got, want) {
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
	work := openStore(t)
	for _, v := range []string{"2.10-1", "2.11-1", "2.12-1"} {
		a.publish(withVersion(basePkgs, "hello", v), suiteOpts{})
		o := a.options(work, now, "hello")
		o.Remote, o.Keep = rm, 1
		sums = append(sums, mustRun(t, o))
	}
	// The work store's copies are pruned alike.
	if refs, err := index.DatedRefs(work); err != nil || !reflect.DeepEqual(refs, []string{sums[2].DatedRef}) {
		t.Errorf("work store dated refs %v (%v), want only %s", refs, err, sums[2].DatedRef)
	}
	checkLocalCopy(t, rm, work, sums[2].Index)
	tags, err := remote.List(rm.Repo, rm.Options...)
	if err != nil {
		t.Fatal(err)
	}
	var dated []string
	for _, tg := range tags {
		if strings.HasPrefix(tg, index.DatedRefPrefix) && tg != index.LatestRef {
			dated = append(dated, tg)
		}
	}
	if !reflect.DeepEqual(dated, []string{sums[2].DatedRef}) {
		t.Errorf("dated tags %v, want only %s", dated, sums[2].DatedRef)
	}
	if _, err := index.LoadRemote(ctx, rm.Repo.Tag(sums[0].DatedRef), rm.Options...); err == nil {
		t.Errorf("%s still loads", sums[0].DatedRef)
	}
	if ix, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...); err != nil || find(ix, "hello").Version != "2.12-1" {
		t.Errorf("latest: %v", err)
	}
	if _, err := remote.Head(rm.Repo.Tag(Tag("hello", "2.10-1", "amd64")), rm.Options...); err != nil {
		t.Errorf("an old package image was removed: %v", err)
	}
}

// TestRegistryWorkStoreDatedRef: a dated ref never moves, in the work store
// either. The work store already holds a layout index whose dated ref is
// the one the registry run would take: the run takes the next second, in
// both places, and the layout's dated ref still names its index.
func TestRegistryWorkStoreDatedRef(t *testing.T) {
	reg := startRegistry(t)
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	rm := reg.remote(t)
	fixed := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	work := openStore(t)
	layout := mustRun(t, a.options(work, fixed, "hello"))
	o := a.options(work, fixed, "hello")
	o.Remote = rm
	sum := mustRun(t, o)
	if !sum.Published || sum.DatedRef == layout.DatedRef || sum.DatedRef != index.DatedRef(fixed().Add(time.Second)) {
		t.Errorf("registry run published %s, the layout run %s; want the next second", sum.DatedRef, layout.DatedRef)
	}
	if d, err := work.Resolve(layout.DatedRef); err != nil || d.Digest.String() != layout.Index {
		t.Errorf("the layout's dated ref moved: %v %v", d.Digest, err)
	}
	if _, ok := index.RemoteOf(work, layout.DatedRef); ok {
		t.Errorf("the layout's dated ref records a repository")
	}
	checkLocalCopy(t, rm, work, sum.Index)
}

// TestRegistryCrashLocalCopy kills a real `deb2fs mirror --store
// REGISTRY/REPO --work DIR` after it published an update to the registry:
// before it wrote anything into the work store, and after it wrote the
// index blobs there but before index.json. The registry has the update;
// the work store's index.json is byte-identical to before and its index
// loads; the next run, up to date against the registry, lists the update
// in the work store.
func TestRegistryCrashLocalCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deb2fs binary")
	}
	reg := startRegistry(t)
	for _, point := range []string{crashPublishLocal, crashPublishBlob} {
		t.Run(point, func(t *testing.T) {
			a := newTestArchive(t)
			a.publish(basePkgs, suiteOpts{})
			repo := reg.Addr + "/deb2fs/crash-" + point
			rm, err := NewRemote(repo)
			if err != nil {
				t.Fatal(err)
			}
			work := filepath.Join(t.TempDir(), "work")
			cmd := func(crashAt string) *exec.Cmd {
				c := exec.Command(deb2fsBinary(t), "mirror", "--store", repo, "--work", work, "--archive", a.URL, "--suite", "testing",
					"--component", "main", "--arch", "amd64", "--keyring", a.Keyring, "--packages", "hello", "-j", "2", "--json")
				c.Env = append(os.Environ(), "DEB2FS_MIRROR_CRASH_AT="+crashAt)
				return c
			}
			if code, sum, stderr := runCLI(t, cmd("")); code != 0 || sum["published"] != true {
				t.Fatalf("first run: exit %d %v\n%s", code, sum, stderr)
			}
			st, err := store.Open(work)
			if err != nil {
				t.Fatal(err)
			}
			checkLocalCopy(t, rm, st, "")
			before, _ := os.ReadFile(filepath.Join(work, "index.json"))
			old := mustLoad(t, st, index.LatestRef)

			a.publish(withVersion(basePkgs, "hello", "2.11-1"), suiteOpts{})
			if out, err := cmd(point).CombinedOutput(); !killed(err) {
				t.Fatalf("run ended with %v, want SIGKILL at %s\n%s", err, point, out)
			}
			ix, err := index.LoadRemote(ctx, rm.Repo.Tag(index.LatestRef), rm.Options...)
			if err != nil || find(ix, "hello").Version != "2.11-1" {
				t.Fatalf("the registry's index after the kill: %v", err)
			}
			if after, _ := os.ReadFile(filepath.Join(work, "index.json")); string(after) != string(before) {
				t.Error("the work store's index.json changed by the killed run")
			}
			if st, err = store.Open(work); err != nil {
				t.Fatal(err)
			}
			if got := mustLoad(t, st, index.LatestRef); !reflect.DeepEqual(got, old) {
				t.Error("the work store's latest index changed")
			}

			code, sum, stderr := runCLI(t, cmd(""))
			if code != 0 || sum["upToDate"] != true {
				t.Fatalf("rerun: exit %d %v\n%s", code, sum, stderr)
			}
			got := checkLocalCopy(t, rm, st, sum["index"].(string))
			if find(got, "hello").Version != "2.11-1" {
				t.Errorf("the work store's index after the rerun lists %v", names(got))
			}
			if ents, _ := os.ReadDir(filepath.Join(work, "deb2fs", "tmp")); len(ents) != 0 {
				t.Errorf("deb2fs/tmp holds %d files after the rerun", len(ents))
			}
		})
	}
}
