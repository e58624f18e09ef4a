package compose

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/fixtures"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
)

func TestPlanGroups(t *testing.T) {
	var es []index.Entry
	add := func(n int, prefix string, essential bool, prio string) {
		for i := 0; i < n; i++ {
			es = append(es, index.Entry{Package: fmt.Sprintf("%s%02d", prefix, i), Essential: essential, Priority: prio})
		}
	}
	add(20, "e", true, "required")
	add(5, "r", false, "required")
	add(4, "i", false, "important")
	add(30, "o", false, "optional")
	es = canonicalOrder(es)
	summary := func(gs []layerGroup) string {
		var parts []string
		for _, g := range gs {
			if g.name == "" {
				parts = append(parts, "1")
			} else {
				parts = append(parts, fmt.Sprintf("%s:%d", strings.SplitN(g.name, "-", 2)[0], len(g.members)))
			}
		}
		return strings.Join(parts, " ")
	}
	for _, tc := range []struct {
		budget int
		want   string
	}{
		{59, strings.TrimSpace(strings.Repeat("1 ", 59))},
		{40, "essential:20 " + strings.TrimSpace(strings.Repeat("1 ", 39))},
		{36, "essential:20 required:5 " + strings.TrimSpace(strings.Repeat("1 ", 34))},
		{20, "essential:20 required:5 important:4 " + strings.TrimSpace(strings.Repeat("packages:2 ", 15))},
	} {
		gs, err := planGroups(es, tc.budget)
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(gs); got != tc.want {
			t.Errorf("budget %d:\n got %s\nwant %s", tc.budget, got, tc.want)
		}
		if len(gs) > tc.budget {
			t.Errorf("budget %d: %d layers", tc.budget, len(gs))
		}
		n := 0
		for _, g := range gs {
			n += len(g.members)
		}
		if n != len(es) {
			t.Errorf("budget %d: %d packages in groups, want %d", tc.budget, n, len(es))
		}
	}
	if _, err := planGroups(es, 2); err == nil {
		t.Error("budget 2 accepted")
	}
}

// Over the layer budget the image still runs and checks clean, and its
// configure layer is the one of the ungrouped image.
func TestComposeLayerBudget(t *testing.T) {
	needRoot(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"nginx", "openssh-server"}}
	es := hostSet(t, s, req)
	out := lowerTempDir(t)
	var imgs []*Image
	for _, max := range []int{0, 40} {
		img, err := Compose(context.Background(), Options{Packages: es, Store: s, MaxLayers: max,
			Output: output.Layout{Dir: out, Tag: fmt.Sprintf("budget-%d", max)}})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("--max-layers %d: %d layers, %s", max, len(img.Layers), img.Timings)
		imgs = append(imgs, img)
	}
	if n := len(imgs[1].Layers); n > 40 {
		t.Errorf("%d layers over a budget of 40", n)
	}
	if a, b := imgs[0].Layers[len(imgs[0].Layers)-1], imgs[1].Layers[len(imgs[1].Layers)-1]; a.Digest != b.Digest {
		t.Errorf("configure layers differ: %s and %s", a.Digest, b.Digest)
	}
	if _, err := lookPodman(); err != nil {
		t.Skip(err)
	}
	fixtures.LockPodman(t)
	id := pull(t, out, "budget-40")
	if got := podmanRun(t, id, "sh", "-c", "dpkg --audit; dpkg --verify; dpkg-query -W -f '${db:Status-Abbrev}\n' | sort | uniq -c"); strings.TrimSpace(got) != fmt.Sprintf("%d ii", len(es)) {
		t.Errorf("grouped image: dpkg --audit, --verify and status gave:\n%s", got)
	}
}
