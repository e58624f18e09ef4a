package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/imagespec"
	"github.com/deb2fs/deb2fs/store"
)

func convertEdge(t *testing.T, st *store.Store, i int) (convert.Key, *convert.Layer) {
	t.Helper()
	e := fixtures.EdgeCases()[i]
	p := e.Deb.WriteFile(t, t.TempDir(), e.Name+".deb")
	r := convert.Batch(context.Background(), []convert.Job{{Path: p}}, st, convert.BatchOptions{})[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	return convert.Key{DebSHA256: r.Layer.DebSHA256, Compression: convert.Gzip}, r.Layer
}

func TestPutFailureLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := convert.Key{DebSHA256: "00", Compression: convert.Gzip}
	_, err = st.Put(context.Background(), key, func(w io.Writer) (*convert.Layer, error) {
		w.Write([]byte("half a layer"))
		return nil, errors.New("corrupt input")
	})
	if err == nil {
		t.Fatal("Put succeeded although write failed")
	}
	if _, ok, _ := st.Lookup(key); ok {
		t.Error("a failed Put left a record")
	}
	for _, d := range []string{"blobs/sha256", "deb2fs/tmp", "deb2fs/layers"} {
		if es, _ := os.ReadDir(filepath.Join(dir, d)); len(es) != 0 {
			t.Errorf("%s not empty after a failed Put: %v", d, es)
		}
	}
}

func TestOpenRemovesDeadRunsTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	if _, err := store.Open(dir); err != nil {
		t.Fatal(err)
	}
	// pid 2^22+1 is above pid_max on Linux: no process has it.
	stale := filepath.Join(dir, "deb2fs", "tmp", fmt.Sprintf("%d-123", 1<<22+1))
	live := filepath.Join(dir, "deb2fs", "tmp", "1-456") // pid 1 is alive
	os.WriteFile(stale, []byte("x"), 0o644)
	os.WriteFile(live, []byte("x"), 0o644)
	if _, err := store.Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("a dead run's temporary file survived Open")
	}
	if _, err := os.Stat(live); err != nil {
		t.Error("a live process's temporary file was removed")
	}
}

func TestLookupAndPublish(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	k1, l1 := convertEdge(t, st, 0)
	k2, _ := convertEdge(t, st, 1)
	if got, ok, err := st.Lookup(k1); err != nil || !ok || got.Digest != l1.Digest {
		t.Fatalf("Lookup after Put: %v %v %v", got, ok, err)
	}
	if err := st.Publish([]convert.Key{k2, k1}); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if err := st.Publish([]convert.Key{k1, k2}); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if string(first) != string(second) {
		t.Error("publishing the same keys in another order changed index.json")
	}
	// go-containerregistry reads the layout and validates every image.
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, _ := idx.IndexManifest()
	if len(m.Manifests) != 2 {
		t.Fatalf("index.json has %d manifests, want 2", len(m.Manifests))
	}
	for _, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Image(img); err != nil {
			t.Errorf("%s: %v", d.Annotations[imagespec.AnnotationRefName], err)
		}
	}
	// A record whose blob disappeared counts as absent, so it is remade.
	os.Remove(st.BlobPath(l1.Digest))
	if _, ok, _ := st.Lookup(k1); ok {
		t.Error("Lookup found a layer whose blob is missing")
	}
}

func TestOpenRemovesZombiesTemporaries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	if _, err := store.Open(dir); err != nil {
		t.Fatal(err)
	}
	// A child that exited but is not reaped yet: a zombie.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	for i := 0; i < 1000; i++ {
		stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		if strings.Contains(string(stat), ") Z") {
			break
		}
		time.Sleep(time.Millisecond)
	}
	leftover := filepath.Join(dir, "deb2fs", "tmp", fmt.Sprintf("%d-1", cmd.Process.Pid))
	os.WriteFile(leftover, []byte("x"), 0o644)
	if _, err := store.Open(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(leftover); err == nil {
		t.Error("a killed, unreaped run's temporary file survived Open")
	}
}
