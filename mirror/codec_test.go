package mirror

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func sampleIndex() *Index {
	h := func(c byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: string(bytes.Repeat([]byte{c}, 64))} }
	ix := &Index{Format: IndexFormat, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Scope: []string{"a", "b"}, Input: "sha256:x", Missing: []string{"m 1 all"},
		Origins: []Origin{{Archive: "http://127.0.0.1:1/x", Codename: "c", Suite: "s", Components: []string{"main"}, Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Signer: "F"}}}
	for i, n := range []string{"a<b>&", "b", "c"} {
		ix.Packages = append(ix.Packages, Entry{Package: n, Version: "1:2.0~rc1+b" + n, Architecture: "amd64", Essential: i == 0,
			Depends: "libc6 (>= 2.36), x | y", InstalledSize: int64(i), DebSize: 10, DebSHA256: "ab", Filename: "pool/x.deb", Origin: 0,
			Layer: Layer{Digest: h('a'), DiffID: h('b'), Size: 7, MediaType: types.OCILayer, Manifest: h('c')}})
	}
	return ix
}

// TestIndexCodec: the parallel line decoder gives what plain JSON decoding
// gives, and a blob that is plain JSON (not one entry per line) still loads.
func TestIndexCodec(t *testing.T) {
	for _, ix := range []*Index{sampleIndex(), {Format: IndexFormat, Created: time.Unix(0, 0).UTC()}} {
		blob, err := encodeIndex(ix)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeIndex(blob)
		if err != nil {
			t.Fatal(err)
		}
		var text bytes.Buffer
		writeIndexJSON(&text, ix)
		var plain Index
		if err := json.Unmarshal(text.Bytes(), &plain); err != nil {
			t.Fatalf("the blob is not JSON: %v\n%s", err, text.Bytes())
		}
		if len(ix.Packages) == 0 {
			ix.Packages, plain.Packages = []Entry{}, []Entry{}
		}
		if !reflect.DeepEqual(got, ix) || !reflect.DeepEqual(&plain, ix) {
			t.Errorf("round trip:\n got %+v\nplain %+v\n want %+v", got, plain, ix)
		}
	}
	// Plain JSON, one line.
	ix := sampleIndex()
	data, _ := json.Marshal(ix)
	zw, _ := zstdEncoder()
	got, err := decodeIndex(zw.EncodeAll(data, nil))
	if err != nil || !reflect.DeepEqual(got, ix) {
		t.Errorf("plain JSON blob: %v, %+v", err, got)
	}
	// A newer format is refused.
	ix.Format = IndexFormat + 1
	blob, _ := encodeIndex(ix)
	if _, err := decodeIndex(blob); err == nil {
		t.Error("a newer index format was accepted")
	}
}

// TestIndexHeaderFields: the header the codec writes carries every field of
// Index but Packages, with the same JSON names.
func TestIndexHeaderFields(t *testing.T) {
	tags := func(v any, skip string) []string {
		var out []string
		ty := reflect.TypeOf(v)
		for i := range ty.NumField() {
			if f := ty.Field(i); f.Name != skip {
				out = append(out, f.Name+" "+f.Type.String()+" "+string(f.Tag))
			}
		}
		return out
	}
	if a, b := tags(Index{}, "Packages"), tags(indexHeader{}, ""); !reflect.DeepEqual(a, b) {
		t.Errorf("indexHeader fields\n%v\nwant those of Index but Packages\n%v", b, a)
	}
}

// TestParseEntry: the fast entry parser gives what encoding/json gives, and
// declines (for encoding/json to decode) what it does not handle.
func TestParseEntry(t *testing.T) {
	entries := sampleIndex().Packages
	odd := entries[0]
	odd.Source = `we"ird \ source` // escapes: declined
	for i, e := range append(entries, odd) {
		var line bytes.Buffer
		enc := json.NewEncoder(&line)
		enc.SetEscapeHTML(false)
		enc.Encode(&e)
		var want, got Entry
		if err := json.Unmarshal(line.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		ok, err := parseEntry(bytes.TrimSpace(line.Bytes()), &got)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if i == len(entries) {
			if ok {
				t.Errorf("an entry with escapes was parsed, not declined")
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("entry %d: ok %v\n got %+v\nwant %+v", i, ok, got, want)
		}
	}
	for _, line := range []string{`{"package":null}`, `{"unknownField":"x"}`, `{"installedSize":1.5}`, `{"package":"a"} x`} {
		var e Entry
		if ok, _ := parseEntry([]byte(line), &e); ok {
			t.Errorf("%s: parsed, want declined", line)
		}
	}
	// An index with an entry the fast parser declines still round-trips.
	ix := sampleIndex()
	ix.Packages = append(ix.Packages, odd)
	blob, _ := encodeIndex(ix)
	got, err := decodeIndex(blob)
	if err != nil || !reflect.DeepEqual(got, ix) {
		t.Errorf("round trip with a declined entry: %v", err)
	}
}
