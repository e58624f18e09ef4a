package archive

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/aptsources"
	"github.com/deb2fs/deb2fs/archive/archivetest"
	"github.com/ulikunitz/xz"
)

// realPackages returns the text of the largest Packages index apt has
// downloaded on this host (or the file $DEB2FS_PACKAGES), or skips.
func realPackages(tb testing.TB) []byte {
	tb.Helper()
	if f := os.Getenv("DEB2FS_PACKAGES"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	lists, _ := filepath.Glob("/var/lib/apt/lists/*_binary-" + aptsources.NativeArch() + "_Packages*")
	var best string
	var bestSize int64
	for _, l := range lists {
		if fi, err := os.Stat(l); err == nil && fi.Size() > bestSize {
			best, bestSize = l, fi.Size()
		}
	}
	if best == "" {
		tb.Skip("no Packages index under /var/lib/apt/lists (run apt-get update, or set DEB2FS_PACKAGES)")
	}
	if !strings.HasSuffix(best, ".lz4") {
		b, err := os.ReadFile(best)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	out, err := exec.Command("/usr/lib/apt/apt-helper", "cat-file", best).Output()
	if err != nil {
		tb.Skipf("apt-helper cat-file %s: %v", best, err)
	}
	return out
}

// BenchmarkReadPackages parses the host's largest real Packages index.
func BenchmarkReadPackages(b *testing.B) {
	data := realPackages(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		pkgs, err := readPackages(bytes.NewReader(data), len(data)/780)
		if err != nil {
			b.Fatal(err)
		}
		n = len(pkgs)
	}
	b.ReportMetric(float64(n), "stanzas")
}

// BenchmarkParseIndex decompresses and parses the real index, as
// Client.Packages does after verification.
func BenchmarkParseIndex(b *testing.B) {
	data := realPackages(b)
	sum := FileHash{Size: int64(len(data)), SHA256: archivetest.SHA256(data)}
	for _, ext := range []string{".gz", ".xz"} {
		var comp bytes.Buffer
		switch ext {
		case ".gz":
			w, _ := gzip.NewWriterLevel(&comp, gzip.BestCompression)
			w.Write(data)
			w.Close()
		case ".xz":
			w, _ := xz.NewWriter(&comp)
			w.Write(data)
			w.Close()
		}
		b.Run(ext, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseIndex(comp.Bytes(), ext, &sum); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRealIndexMemory reports the live heap held by the parsed real index.
func TestRealIndexMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	data := realPackages(t)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	pkgs, err := ReadPackages(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d stanzas from %d bytes: %.1f MiB live heap (%d B per package)", len(pkgs), len(data), float64(live)/(1<<20), live/int64(max(len(pkgs), 1)))
	if want := bytes.Count(data, []byte("\nPackage: ")) + 1; len(pkgs) != want {
		t.Errorf("parsed %d stanzas, text has %d Package fields", len(pkgs), want)
	}
	runtime.KeepAlive(pkgs)
}
