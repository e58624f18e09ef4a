package mirror

import (
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// deb2fsBinary builds cmd/deb2fs once per test process, with the crash
// points compiled in (-tags deb2fs_crash).
func deb2fsBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "deb2fs-mirror-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "deb2fs")
		out, err := exec.Command("go", "build", "-tags", "deb2fs_crash", "-o", binPath, "../cmd/deb2fs").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build ../cmd/deb2fs: " + err.Error() + ": " + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// mirrorCmd is `deb2fs mirror` of hello's closure from a into dir.
func (a *testArchive) mirrorCmd(t *testing.T, dir, crashPoint string) *exec.Cmd {
	cmd := exec.Command(deb2fsBinary(t), "mirror", "--store", dir, "--archive", a.URL, "--suite", "testing",
		"--component", "main", "--arch", "amd64", "--keyring", a.Keyring, "--packages", "hello", "-j", "2", "--json")
	cmd.Env = append(os.Environ(), "DEB2FS_MIRROR_CRASH_AT="+crashPoint)
	return cmd
}

// killed reports whether err is a process's death by SIGKILL.
func killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// sameContent compares what an index says, not when it was made.
func sameContent(a, b *index.Index) bool {
	return reflect.DeepEqual(a.Packages, b.Packages) && reflect.DeepEqual(a.Origins, b.Origins) &&
		reflect.DeepEqual(a.Scope, b.Scope) && a.Input == b.Input && a.Format == b.Format
}

// TestMirrorCrash kills a real `deb2fs mirror` process with SIGKILL at
// several points of a run that updates the store (mid-download from outside;
// mid-conversion, between two conversions and between writing the index
// blob and publishing it from inside), and checks that the previous index
// is still the published one and loads, that the store is consistent, and
// that the next run's index equals an uninterrupted run's.
func TestMirrorCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deb2fs binary")
	}
	updated := append(withVersion(basePkgs, "hello", "2.11-1", "Depends: libc6 (>= 2.36), hello-data (= 2.10-1), greet"),
		tpkg{"greet", "1.0", "amd64", nil})
	newDeb := "/pool/main/h/hello/hello_2.11-1_amd64.deb"

	for _, tc := range []struct {
		point   string
		first   bool // crash the first run of an empty store
		outside bool // kill from the test, while the server sends half a .deb
	}{
		{point: "download", outside: true},
		{point: crashConvertWrite},
		{point: crashConverted},
		{point: crashPublishBlob},
		{point: crashConverted, first: true},
		{point: crashPublishBlob, first: true},
	} {
		name := tc.point
		if tc.first {
			name += "/first-run"
		}
		t.Run(name, func(t *testing.T) {
			a := newTestArchive(t)
			st := openStore(t)
			var before []byte
			var old *index.Index
			if !tc.first {
				a.publish(basePkgs, suiteOpts{})
				if out, err := a.mirrorCmd(t, st.Dir(), "").CombinedOutput(); err != nil {
					t.Fatalf("first run: %v\n%s", err, out)
				}
				before, _ = os.ReadFile(filepath.Join(st.Dir(), "index.json"))
				old = mustLoad(t, st, index.LatestRef)
			}
			a.publish(updated, suiteOpts{})

			cmd := a.mirrorCmd(t, st.Dir(), tc.point)
			if tc.outside {
				sending := make(chan struct{})
				var once sync.Once
				body, _ := os.ReadFile(filepath.Join(a.Root, newDeb))
				a.SetHook(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path != newDeb {
						return false
					}
					w.Header().Set("Content-Length", itoa(len(body)))
					w.Write(body[:len(body)/2])
					w.(http.Flusher).Flush()
					once.Do(func() { close(sending) })
					<-r.Context().Done()
					return true
				})
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				select {
				case <-sending:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Fatal("the run never requested the new .deb")
				}
				cmd.Process.Kill() // SIGKILL
				err := cmd.Wait()
				a.SetHook(nil)
				if !killed(err) {
					t.Fatalf("run ended with %v, want SIGKILL", err)
				}
			} else if out, err := cmd.CombinedOutput(); !killed(err) {
				t.Fatalf("run ended with %v, want SIGKILL at %s\n%s", err, tc.point, out)
			}

			// The previous index is still the published one.
			after, _ := os.ReadFile(filepath.Join(st.Dir(), "index.json"))
			if tc.first {
				if _, err := index.Load(st, index.LatestRef); !errors.Is(err, store.ErrNoRef) {
					t.Errorf("after a killed first run: %v, want no index", err)
				}
			} else {
				if string(after) != string(before) {
					t.Error("index.json changed by the killed run")
				}
				if ix := mustLoad(t, st, index.LatestRef); !reflect.DeepEqual(ix, old) {
					t.Error("the latest index changed")
				}
			}

			// The next run finishes the job.
			if out, err := a.mirrorCmd(t, st.Dir(), "").CombinedOutput(); err != nil {
				t.Fatalf("rerun: %v\n%s", err, out)
			}
			got := mustLoad(t, st, index.LatestRef)
			// The reference: one uninterrupted run on the same archive.
			refStore := openStore(t)
			if out, err := a.mirrorCmd(t, refStore.Dir(), "").CombinedOutput(); err != nil {
				t.Fatalf("reference run: %v\n%s", err, out)
			}
			want := mustLoad(t, refStore, index.LatestRef)
			if len(want.Packages) != 5 {
				t.Fatalf("reference index lists %v", names(want))
			}
			if !sameContent(got, want) {
				t.Errorf("index after the crash and a rerun lists %v, want %v (or differs in layers/origins)", names(got), names(want))
				for i := range got.Packages {
					if i < len(want.Packages) && !reflect.DeepEqual(got.Packages[i], want.Packages[i]) {
						t.Logf("got  %+v\nwant %+v", got.Packages[i], want.Packages[i])
					}
				}
			}
			for _, e := range got.Packages {
				if !st.HasBlob(e.Layer.Digest) || !st.HasBlob(e.Layer.Manifest) {
					t.Errorf("%s: blob missing", e.Package)
				}
			}
			for _, d := range []string{"deb2fs/tmp", "deb2fs/downloads"} {
				if ents, _ := os.ReadDir(filepath.Join(st.Dir(), d)); len(ents) != 0 {
					t.Errorf("%s holds %d files after the rerun", d, len(ents))
				}
			}
		})
	}
}

// TestMain removes the binary deb2fsBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// The deb2fs users run has no crash points: built without the tag, a
// mirror run told to crash publishes as usual.
func TestReleaseBuildIgnoresCrashPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the deb2fs binary")
	}
	bin := filepath.Join(t.TempDir(), "deb2fs")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/deb2fs").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	a := newTestArchive(t)
	a.publish(basePkgs, suiteOpts{})
	cmd := a.mirrorCmd(t, filepath.Join(t.TempDir(), "store"), crashPublishBlob)
	cmd.Path, cmd.Args[0] = bin, bin
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("a release build with DEB2FS_MIRROR_CRASH_AT=%s: %v\n%s", crashPublishBlob, err, out)
	}
}
