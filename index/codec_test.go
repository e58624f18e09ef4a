package index

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func sampleIndex() *Index {
	h := func(c byte) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: string(bytes.Repeat([]byte{c}, 64))} }
	ix := &Index{Format: FormatVersion, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Scope: []string{"a", "b"}, Input: "sha256:x", Missing: []string{"m 1 all"},
		Origins: []Origin{{Archive: "http://127.0.0.1:1/x", Codename: "c", Suite: "s", Components: []string{"main"}, Date: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Signer: "F"}}}
	for i, n := range []string{"a<b>&", "b", "c"} {
		ix.Packages = append(ix.Packages, Entry{Package: n, Version: "1:2.0~rc1+b" + n, Architecture: "amd64", Essential: i == 0,
			Depends: "libc6 (>= 2.36), x | y", InstalledSize: int64(i), DebSize: 10, DebSHA256: "ab", Filename: "pool/x.deb", Origin: 0,
			Layer: Layer{Digest: h('a'), DiffID: h('b'), Size: 7, MediaType: types.OCILayer, Manifest: h('c')}})
	}
	ix.Packages[1].Important = true
	ix.Packages[1].Suggests = "b-doc, www-browser | lynx (>= 2.9) [amd64] <!nocheck>"
	ix.Packages[2].Suggests = "é"
	return ix
}

// roundTrip encodes ix as an index blob and decodes it again.
func roundTrip(t testing.TB, ix *Index) *Index {
	t.Helper()
	blob, err := Encode(ix)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(blob)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestIndexCodec: the parallel line decoder gives what plain JSON decoding
// gives, and a blob that is plain JSON (not one entry per line) still loads.
func TestIndexCodec(t *testing.T) {
	for _, ix := range []*Index{sampleIndex(), {Format: FormatVersion, Created: time.Unix(0, 0).UTC()}} {
		got := roundTrip(t, ix)
		var text bytes.Buffer
		WriteJSON(&text, ix)
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
	got, err := Decode(zw.EncodeAll(data, nil))
	if err != nil || !reflect.DeepEqual(got, ix) {
		t.Errorf("plain JSON blob: %v, %+v", err, got)
	}
	// A newer format is refused.
	ix.Format = FormatVersion + 1
	blob, _ := Encode(ix)
	if _, err := Decode(blob); err == nil {
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
	blob, _ := Encode(ix)
	got, err := Decode(blob)
	if err != nil || !reflect.DeepEqual(got, ix) {
		t.Errorf("round trip with a declined entry: %v", err)
	}
}

// TestEntryFieldsCompat: the fields added to Entry without a new
// FormatVersion (Suggests, Important) are left out when empty, so an entry
// without them is written as before; an entry line of an older deb2fs
// parses (fast path) with them empty; and a key this deb2fs does not know
// — what "suggests" and "important" are to an older deb2fs — sends the
// line to encoding/json, which skips it, so the index still loads.
func TestEntryFieldsCompat(t *testing.T) {
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	e := sampleIndex().Packages[0]
	if err := enc.Encode(&e); err != nil {
		t.Fatal(err)
	}
	if s := line.String(); strings.Contains(s, `"suggests"`) || strings.Contains(s, `"important"`) {
		t.Errorf("empty Suggests and Important are written: %s", s)
	}
	line.Reset()
	e.Suggests, e.Important = "x", true
	enc.Encode(&e)
	if s := line.String(); !strings.Contains(s, `"important":true,`) || !strings.Contains(s, `,"suggests":"x",`) {
		t.Errorf("Suggests and Important not written as \"suggests\" and \"important\": %s", s)
	}

	// An entry as the deb2fs before Suggests and Important wrote it: the
	// bookworm e2fsprogs, which has both, with made-up layer digests.
	old := `{"package":"e2fsprogs","version":"1.47.0-2+b2","architecture":"amd64","multiArch":"foreign","priority":"required",` +
		`"section":"admin","source":"e2fsprogs (1.47.0-2)","depends":"logsave","preDepends":"libblkid1 (>= 2.36), libc6 (>= 2.34), ` +
		`libcom-err2 (>= 1.43.9), libext2fs2 (= 1.47.0-2+b2), libss2 (>= 1.38), libuuid1 (>= 2.16)","recommends":"e2fsprogs-l10n",` +
		`"installedSize":1497,"filename":"pool/main/e/e2fsprogs/e2fsprogs_1.47.0-2+b2_amd64.deb","debSize":571920,` +
		`"debSHA256":"fedd424691c08ef0739729026be298e7be8236337bf8e031b3c7ec66794e6fc2","origin":0,"layer":{"digest":"sha256:` +
		strings.Repeat("a", 64) + `","diffID":"sha256:` + strings.Repeat("b", 64) + `","size":7,` +
		`"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","manifest":"sha256:` + strings.Repeat("c", 64) + `","format":1}}`
	var fast, plain Entry
	if ok, err := parseEntry([]byte(old), &fast); !ok || err != nil {
		t.Fatalf("an older entry line: ok %v, %v", ok, err)
	}
	if err := json.Unmarshal([]byte(old), &plain); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, plain) || fast.Suggests != "" || fast.Important || fast.Package != "e2fsprogs" || fast.InstalledSize != 1497 {
		t.Errorf("an older entry line:\n fast %+v\nplain %+v", fast, plain)
	}
	line.Reset()
	enc.Encode(&fast)
	if s := strings.TrimSpace(line.String()); s != old {
		t.Errorf("an entry without Suggests and Important is not written as before:\n%s\nwant\n%s", s, old)
	}

	// A key this deb2fs does not know.
	ix := sampleIndex()
	var text bytes.Buffer
	if err := WriteJSON(&text, ix); err != nil {
		t.Fatal(err)
	}
	future := strings.Replace(text.String(), `{"package":"b",`, `{"package":"b","futureField":{"x":[1,2]},`, 1)
	if future == text.String() {
		t.Fatal("entry b not found in the index text")
	}
	zw, _ := zstdEncoder()
	got, err := Decode(zw.EncodeAll([]byte(future), nil))
	if err != nil || !reflect.DeepEqual(got, ix) {
		t.Errorf("an entry with an unknown key: %v\n got %+v\nwant %+v", err, got, ix)
	}
}

// FuzzEntryCodec: an index whose entry carries any package name, Suggests,
// Important and installed size decodes (fast parser or encoding/json) to
// what encoding/json makes of the same text, and to the index itself when
// the strings are valid UTF-8 (JSON cannot carry anything else).
func FuzzEntryCodec(f *testing.F) {
	f.Add("b", "b-doc, www-browser | lynx (>= 2.9) [amd64]", true, int64(3))
	f.Add(`we"ird`, "é \\ \t\n", false, int64(-1))
	f.Add("]}", "", true, int64(0))
	f.Fuzz(func(t *testing.T, name, suggests string, important bool, size int64) {
		ix := sampleIndex()
		e := &ix.Packages[1]
		e.Package, e.Suggests, e.Important, e.InstalledSize = name, suggests, important, size
		var text bytes.Buffer
		if err := WriteJSON(&text, ix); err != nil {
			t.Fatal(err)
		}
		var want Index
		if err := json.Unmarshal(text.Bytes(), &want); err != nil {
			t.Fatalf("the index text is not JSON: %v", err)
		}
		got := roundTrip(t, ix)
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("decoded\n %+v\nencoding/json\n %+v", got.Packages[1], want.Packages[1])
		}
		if utf8.ValidString(name) && utf8.ValidString(suggests) && !reflect.DeepEqual(got, ix) {
			t.Errorf("decoded\n %+v\nwant\n %+v", got.Packages[1], ix.Packages[1])
		}
	})
}
