package rootfs_test

import (
	"bytes"
	"testing"

	"github.com/deb2fs/deb2fs/compose/rootfs"
	"github.com/deb2fs/deb2fs/compose/rootfs/rootfstest"
)

func TestBaseLayerDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	da, _, err := rootfs.WriteBaseLayer(&a, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	db, _, _ := rootfs.WriteBaseLayer(&b, "amd64")
	if da.Digest != db.Digest || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("base layer differs between two runs")
	}
	got := rootfstest.LayerEntries(t, a.Bytes())
	want := map[string]bool{"2 bin -> usr/bin": true, "2 lib64 -> usr/lib64": true, "0 var/lib/dpkg/info/format": true, "0 var/lib/dpkg/status": true}
	for _, e := range got {
		delete(want, e)
	}
	if len(want) > 0 {
		t.Errorf("base layer lacks %v; has %v", want, got)
	}
	var c bytes.Buffer
	rootfs.WriteBaseLayer(&c, "arm64")
	for _, e := range rootfstest.LayerEntries(t, c.Bytes()) {
		if e == "2 lib64 -> usr/lib64" {
			t.Error("arm64 base has lib64")
		}
	}
}
