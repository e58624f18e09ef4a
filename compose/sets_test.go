package compose

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
)

// Other package sets compose and check clean too: systemd and D-Bus (which
// make machine-ids at configure), an interpreter, a client with
// certificates.
func TestComposeSets(t *testing.T) {
	needRoot(t)
	needPodman(t)
	s := testStore(t)
	for _, names := range [][]string{{"systemd", "dbus"}, {"python3"}, {"curl", "ca-certificates"}} {
		t.Run(strings.Join(names, "+"), func(t *testing.T) {
			req := resolve.Request{Install: names}
			es := hostSet(t, s, req)
			out := lowerTempDir(t)
			img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s,
				Output: output.Layout{Dir: out, Tag: "set"}})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d packages, %d layers: %s", len(es), len(img.Layers), img.Timings)
			// Configure again: the same configure layer (reproducible).
			again, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s, NoCache: true,
				Output: output.Layout{Dir: out, Tag: "set"}})
			if err != nil {
				t.Fatal(err)
			}
			if a, b := img.Layers[len(img.Layers)-1].Digest, again.Layers[len(again.Layers)-1].Digest; a != b {
				t.Errorf("configure layer %s, then %s: not reproducible", a, b)
			}
			// Package layers are the .debs' contents, some of which embed
			// fixed test keys (libgnutls30 does); per-instance secrets
			// can only come from the configure layer.
			for _, l := range img.Layers[len(img.Layers)-1:] {
				for _, hit := range secretsIn(t, blobPath(out, l.Digest), l) {
					t.Errorf("layer %s: %s", l.Digest, hit)
				}
			}
			id := pull(t, out, "set")
			got := podmanRun(t, id, "sh", "-c", `dpkg --audit; dpkg --verify; dpkg-query -W -f '${db:Status-Abbrev}\n' | sort | uniq -c | sed 's/^ *//'`)
			if strings.TrimSpace(got) != fmt.Sprintf("%d ii", len(es)) {
				t.Errorf("dpkg --audit, --verify, status:\n%s", got)
			}
		})
	}
}
