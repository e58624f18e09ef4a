package resolve

import (
	"bytes"
	"os/exec"
	"testing"
)

// BenchmarkParseIndex measures reading the host's Packages indices into
// Packages with the test parser (a stand-in for the archive client).
func BenchmarkParseIndex(b *testing.B) {
	h := needHost(b)
	var raw [][]byte
	for _, f := range h.files {
		data, err := exec.Command("/usr/lib/apt/apt-helper", "cat-file", f).Output()
		if err != nil {
			b.Fatal(err)
		}
		raw = append(raw, data)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		for _, data := range raw {
			ps, err := parseStanzas(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			n += len(ps)
		}
		b.ReportMetric(float64(n), "stanzas")
	}
}

// BenchmarkNewUniverse measures building the universe from the host's
// stanzas (about 66k on bookworm + updates + security).
func BenchmarkNewUniverse(b *testing.B) {
	h := needHost(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := NewUniverse(h.arch, h.pkgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(h.pkgs)), "stanzas")
}

// BenchmarkResolveFirst measures the first resolution on a fresh universe,
// which also builds the Provides index and parses relations.
func BenchmarkResolveFirst(b *testing.B) {
	h := needHost(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		u, err := NewUniverse(h.arch, h.pkgs)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := u.Resolve(Request{Install: []string{"nginx", "openssh-server"}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResolve measures resolving nginx + openssh-server on the
// minimal base over the full universe, once relations are parsed.
func BenchmarkResolve(b *testing.B) {
	u := needHostUniverse(b)
	req := Request{Install: []string{"nginx", "openssh-server"}}
	if _, err := u.Resolve(req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := u.Resolve(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrder measures the topological order of that set.
func BenchmarkOrder(b *testing.B) {
	u := needHostUniverse(b)
	r, err := u.Resolve(Request{Install: []string{"nginx", "openssh-server"}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Order()
	}
}
