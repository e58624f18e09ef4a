package configure

import (
	"strings"
	"testing"
)

// compareLayers names each differing path once, with what differs, and
// paths present in one layer only.
func TestCompareLayers(t *testing.T) {
	a := map[string]layerEntry{
		"etc":            {typ: '5', mode: 0o755},
		"etc/same":       {typ: '0', mode: 0o644, size: 3, contentSum: [32]byte{1}},
		"etc/key":        {typ: '0', mode: 0o600, size: 3, contentSum: [32]byte{2}},
		"etc/owned":      {typ: '0', mode: 0o644, uid: 100},
		"etc/link":       {typ: '2', link: "a"},
		"etc/only-first": {typ: '0'},
	}
	b := map[string]layerEntry{
		"etc":             {typ: '5', mode: 0o755},
		"etc/same":        {typ: '0', mode: 0o644, size: 3, contentSum: [32]byte{1}},
		"etc/key":         {typ: '0', mode: 0o640, size: 3, contentSum: [32]byte{3}},
		"etc/owned":       {typ: '0', mode: 0o644, uid: 101},
		"etc/link":        {typ: '2', link: "b"},
		"etc/only-second": {typ: '0'},
	}
	var got []string
	for _, d := range compareLayers(a, b) {
		got = append(got, d.Path+": "+d.What)
	}
	want := "etc/key: content, mode|etc/link: link target|etc/only-first: only in the first run|etc/only-second: only in the second run|etc/owned: owner"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}
