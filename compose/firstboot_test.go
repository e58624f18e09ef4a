package compose

import (
	"context"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/resolve"
)

// ssl-cert's snakeoil certificate and key are not in the image; each
// container makes its own at first start, for its own host name.
func TestFirstbootSnakeoil(t *testing.T) {
	needRoot(t)
	needPodman(t)
	s := testStore(t)
	req := resolve.Request{Install: []string{"ssl-cert"}}
	es := hostSet(t, s, req)
	out := lowerTempDir(t)
	img, err := Compose(context.Background(), Options{Packages: es, Request: req, Store: s,
		Output: Output{Kind: "oci", Path: out, Tag: "snakeoil"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range img.Layers {
		for _, hit := range secretsIn(t, blobPath(out, l.Digest), l) {
			t.Errorf("layer %s: %s", l.Digest, hit)
		}
	}
	id := pull(t, out, "snakeoil")
	cn := func(host string) string {
		return strings.TrimSpace(podman(t, append(append([]string{"run", "--rm", "--hostname", host}, podmanArgs...), id,
			"sh", "-c", "openssl x509 -noout -subject -in /etc/ssl/certs/ssl-cert-snakeoil.pem && ls -l /etc/ssl/private/ssl-cert-snakeoil.key >/dev/null")...))
	}
	a, b := cn("alpha"), cn("beta")
	if !strings.Contains(a, "alpha") || !strings.Contains(b, "beta") {
		t.Errorf("snakeoil subjects: %q, %q; want each container's host name", a, b)
	}
	t.Logf("%s / %s", a, b)
}
