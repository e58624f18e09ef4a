package convert_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/store"
)

// batchDigests converts debs into a fresh store and returns deb SHA256 →
// layer digest.
func batchDigests(t *testing.T, debs []string, opts convert.BatchOptions) map[string]string {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	var jobs []convert.Job
	for _, d := range debs {
		jobs = append(jobs, convert.Job{Path: d})
	}
	out := map[string]string{}
	for _, r := range convert.Batch(context.Background(), jobs, st, opts) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.Cached {
			t.Fatalf("%s: cached in a fresh store", r.Job.Path)
		}
		out[r.Layer.DebSHA256] = r.Layer.Digest.String()
	}
	return out
}

// TestDeterministic converts the real packages and the edge cases twice,
// with different parallelism and job order, with both xz decoders, and
// with zstd: every layer digest is the same each time.
func TestDeterministic(t *testing.T) {
	var debs []string
	for _, d := range testDebs(t) {
		debs = append(debs, d)
	}
	reversed := make([]string, len(debs))
	for i, d := range debs {
		reversed[len(debs)-1-i] = d
	}
	for _, comp := range []convert.Compression{convert.Gzip, convert.Zstd} {
		a := batchDigests(t, debs, convert.BatchOptions{Jobs: 1, Options: convert.Options{Compression: comp, XZ: convert.XZExec}})
		b := batchDigests(t, reversed, convert.BatchOptions{Jobs: 3, Options: convert.Options{Compression: comp, XZ: convert.XZExec}})
		c := batchDigests(t, debs, convert.BatchOptions{Jobs: 2, Options: convert.Options{Compression: comp, XZ: convert.XZGo}})
		for sha, d := range a {
			if b[sha] != d || c[sha] != d {
				t.Errorf("%s (deb %s): digests differ: -j1 %s, -j3 reversed %s, pure-Go xz %s", comp, sha[:12], d, b[sha], c[sha])
			}
		}
	}
}

// TestPinnedDigests asserts the layer digests of a pinned real .deb and of
// a hand-made one. They change only when the layer format changes, and then
// FormatVersion must be bumped with them: a new digest under the same
// format version would make stores disagree about what a key holds.
func TestPinnedDigests(t *testing.T) {
	const (
		realDeb    = "base-passwd=3.6.1"
		realSHA    = "908ca1b35125f49125ae56945a72bc11ce0fcec85a8d980d10d83bb3a610f518"
		realGzip   = "sha256:b8103d64d18ead6f51fecd5fff892bcc0897d013f290ae9622bbc2fb843853db"
		realZstd   = "sha256:a54e236ba01d9ecb9ef67fbeee05ffb83a946c75ec160b64380254353af00e7d"
		edgeName   = "conffiles"
		edgeGzip   = "sha256:96414d2c269b95885261cec88f3020efb02c5af116149d8911e6efdca1a9feaf"
		formatWant = 1
	)
	if convert.FormatVersion != formatWant {
		t.Fatalf("FormatVersion is %d: update the pinned digests of this test with it", convert.FormatVersion)
	}
	deb := fixtures.RealDebs(t, realDeb)["base-passwd"]
	var edge string
	for _, e := range fixtures.EdgeCases() {
		if e.Name == edgeName {
			edge = e.Deb.WriteFile(t, t.TempDir(), "edge.deb")
		}
	}
	for _, tc := range []struct {
		what, deb string
		comp      convert.Compression
		want      string
	}{
		{realDeb + " gzip", deb, convert.Gzip, realGzip},
		{realDeb + " zstd", deb, convert.Zstd, realZstd},
		{"edge case " + edgeName + " gzip", edge, convert.Gzip, edgeGzip},
	} {
		l, _, _ := convertDeb(t, tc.deb, convert.Options{Compression: tc.comp})
		if l.Digest.String() != tc.want {
			t.Errorf("%s: layer digest %s, pinned %s", tc.what, l.Digest, tc.want)
		}
		if tc.deb == deb && l.DebSHA256 != realSHA {
			t.Errorf("%s: .deb SHA256 %s, pinned %s (the archive changed the file?)", tc.what, l.DebSHA256, realSHA)
		}
	}
}

// TestSharedDirectoriesAgree checks the order-independence contract: a
// directory shipped by several layers has the same metadata in each, so
// which layer lands last cannot change the composed image.
func TestSharedDirectoriesAgree(t *testing.T) {
	type meta struct {
		mode         int64
		uid, gid     int
		uname, gname string
		mtime        int64
		from         string
	}
	seen := map[string]meta{}
	shared := 0
	for name, deb := range testDebs(t) {
		_, layer, _ := convertDeb(t, deb, convert.Options{})
		for _, e := range layer {
			h := e.hdr
			if h.Typeflag != '5' {
				continue
			}
			m := meta{h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.Unix(), name}
			prev, ok := seen[h.Name]
			if !ok {
				seen[h.Name] = m
				continue
			}
			shared++
			m.from = prev.from
			if m != prev {
				t.Errorf("directory %s: %+v in %s, %+v in %s", h.Name, prev, prev.from, m, name)
			}
		}
	}
	if shared < 50 {
		t.Errorf("only %d shared directory entries seen: the test lost its coverage", shared)
	}
}
