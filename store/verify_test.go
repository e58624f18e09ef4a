package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/store"
)

// An empty store's index.json lists "manifests": [], not null.
func TestEmptyIndexManifests(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		data, err := os.ReadFile(filepath.Join(dir, "index.json"))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), `"manifests": []`) {
			t.Errorf("%s: index.json is %s", when, data)
		}
	}
	check("new store")
	_, l := convertEdge(t, st, 0)
	if err := st.Publish([]convert.Key{{DebSHA256: l.DebSHA256, Compression: convert.Gzip}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Untag([]string{store.RefName(l)}); err != nil {
		t.Fatal(err)
	}
	check("every entry untagged")
}

// Verify names a damaged layer blob, the record and the tag that need it;
// --repair removes them, says the package needs converting again, and
// leaves a store that verifies. An intact store has no problem.
func TestVerifyStore(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	key, l := convertEdge(t, st, 0)
	_, other := convertEdge(t, st, 1)
	if err := st.Publish([]convert.Key{key, {DebSHA256: other.DebSHA256, Compression: convert.Gzip}}); err != nil {
		t.Fatal(err)
	}
	if ps, err := st.Verify(false); err != nil || len(ps) > 0 {
		t.Fatalf("intact store: %v, %v", ps, err)
	}
	p := st.BlobPath(l.Digest)
	data, _ := os.ReadFile(p)
	data[len(data)/2] ^= 1
	os.WriteFile(p, data, 0o644)
	ps, err := st.Verify(false)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, p := range ps {
		all = append(all, p.String())
	}
	text := strings.Join(all, "\n")
	t.Logf("problems:\n%s", text)
	for _, want := range []string{"blobs/sha256/" + l.Digest.Hex, "tag " + store.RefName(l), "deb2fs/layers/" + key.String() + ".json", l.Package} {
		if !strings.Contains(text, want) {
			t.Errorf("no problem names %s", want)
		}
	}
	if strings.Contains(text, other.Package) {
		t.Errorf("the intact package is named: %s", text)
	}
	ps, _ = st.Verify(true)
	for _, p := range ps {
		if p.Repair == "" {
			t.Errorf("not repaired: %s", p)
		}
		t.Logf("repair: %s", p)
	}
	if ps, err := st.Verify(false); err != nil || len(ps) > 0 {
		t.Errorf("after repair: %v, %v", ps, err)
	}
	if _, ok, _ := st.Lookup(key); ok {
		t.Error("the damaged layer still looks present")
	}
	if _, err := st.Resolve(store.RefName(other)); err != nil {
		t.Errorf("the intact package lost its tag: %v", err)
	}
}
