package cli

import "testing"

func TestSizeValue(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "16GiB": 16 << 30, "16G": 16 << 30, "512MiB": 512 << 20,
		"3K": 3 << 10, "2TiB": 2 << 40, "100B": 100,
	} {
		var n int64
		if err := (sizeValue{&n}).Set(in); err != nil || n != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5G", "16iB", "GiB", "16 GiB", "9999999TiB"} {
		var n int64
		if err := (sizeValue{&n}).Set(in); err == nil {
			t.Errorf("Set(%q) accepted: %d", in, n)
		}
	}
	for n, want := range map[int64]string{16 << 30: "16GiB", 1 << 20: "1MiB", 3 << 10: "3KiB", 1536: "1536", 100: "100"} {
		if got := (sizeValue{&n}).String(); got != want {
			t.Errorf("String(%d) = %q, want %q", n, got, want)
		}
	}
}
