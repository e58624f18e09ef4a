package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/internal/registrytest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/inspect/inspecttest"
	"github.com/deb2fs/deb2fs/store"
)

// imageStore makes a store with libedge1 1.0 and 2.0 and two images
// tagged in it, old and new (edge-conffiles in a group layer in old, in
// its own in new), whose layer blobs are then deleted: every
// command below reads manifests and configs only.
func imageStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ls := inspecttest.ConvertDebs(t, st,
		inspecttest.EdgeDeb(t, "multiarch-same"), inspecttest.EdgeDeb(t, "multiarch-same", "Version: 2.0"),
		inspecttest.EdgeDeb(t, "hardlinks"), inspecttest.EdgeDeb(t, "no-md5sums"), inspecttest.EdgeDeb(t, "conffiles"))
	by := map[string]*convert.Layer{}
	for _, l := range ls {
		by[l.Package+"="+l.Version] = l
	}
	old := inspecttest.BuildImage(t, st, dir, "old", inspecttest.Single(by["edge-hardlinks=1.0"]), inspecttest.Single(by["libedge1=1.0"]),
		inspecttest.Part{Group: "optional", Pkgs: []*convert.Layer{by["edge-nomd5=1.0"], by["edge-conffiles=1.0"]}})
	new := inspecttest.BuildImage(t, st, dir, "new", inspecttest.Single(by["edge-hardlinks=1.0"]), inspecttest.Single(by["libedge1=2.0"]),
		inspecttest.Single(by["edge-conffiles=1.0"]))
	inspecttest.RemoveBlobs(t, dir, inspecttest.LayerDigests(t, old))
	inspecttest.RemoveBlobs(t, dir, inspecttest.LayerDigests(t, new))
	return dir
}

func TestInspectCommand(t *testing.T) {
	st := imageStore(t)
	out, errOut, code := run(t, "inspect", "--store", st, "old")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"packages\t4", "libedge1", "edge-nomd5", "optional"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = run(t, "inspect", "--store", st, "--json", "oci:"+st+":new")
	var im struct {
		Digest   string
		Packages []struct{ Name, Version, Architecture string }
	}
	if err := json.Unmarshal([]byte(out), &im); err != nil || code != 0 || len(im.Packages) != 3 {
		t.Fatalf("inspect --json: exit %d, %v: %s", code, err, out)
	}
	sbom := filepath.Join(t.TempDir(), "sbom.json")
	if _, errOut, code := run(t, "inspect", "--store", st, "--sbom", "spdx-json", "-o", sbom, "old"); code != 0 {
		t.Fatalf("--sbom: exit %d: %s", code, errOut)
	}
	data, _ := os.ReadFile(sbom)
	var doc struct {
		SPDXVersion string
		Packages    []struct{ Name string }
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.SPDXVersion != "SPDX-2.3" || len(doc.Packages) != 5 {
		t.Errorf("sbom: %v %+v", err, doc)
	}
	if _, errOut, code := run(t, "inspect", "--store", st, "nope"); code == 0 || !strings.Contains(errOut, "nope") {
		t.Errorf("an unknown tag: exit %d: %s", code, errOut)
	}
}

func TestWhichAndDiffCommands(t *testing.T) {
	st := imageStore(t)
	for _, tc := range []struct {
		query string
		code  int
		tags  string
	}{
		{"libedge1<<2.0", 0, "old"},
		{"libedge1>=1.0", 0, "new old"},
		{"libedge1>>2.0", 1, ""},
		{"edge-nomd5", 0, "old"},
		{"libedge1<>2", 2, ""},
	} {
		out, errOut, code := run(t, "which", "--store", st, tc.query)
		if code != tc.code {
			t.Errorf("which %s: exit %d, want %d: %s", tc.query, code, tc.code, errOut)
		}
		var tags []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) > 0 {
				tags = append(tags, f[0][strings.LastIndex(f[0], ":")+1:])
			}
		}
		if strings.Join(tags, " ") != tc.tags {
			t.Errorf("which %s: %q, want %q:\n%s", tc.query, strings.Join(tags, " "), tc.tags, out)
		}
	}
	out, errOut, code := run(t, "diff", "--store", st, "old", "new")
	if code != 0 {
		t.Fatalf("diff: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"- edge-nomd5 1.0 all\n", "~ libedge1 1.0 -> 2.0 ", "0 added, 1 removed, 1 changed, 2 unchanged; 4 new layers"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
}

// TestWhichRegistry: which over every tag of a registry repository, and
// an SBOM of a registry image; neither fetches a layer.
func TestWhichRegistry(t *testing.T) {
	reg := registrytest.Start(t).Addr
	dir := filepath.Join(t.TempDir(), "store")
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ls := inspecttest.ConvertDebs(t, st, inspecttest.EdgeDeb(t, "multiarch-same"), inspecttest.EdgeDeb(t, "multiarch-same", "Version: 2.0"))
	for i, l := range ls {
		img := inspecttest.BuildImage(t, st, t.TempDir(), "x", inspecttest.Single(l))
		ref, _ := name.ParseReference(reg + "/apps/edge:v" + string(rune('1'+i)))
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
	}
	proxy := registrytest.NewCountingProxy(t, reg)
	out, errOut, code := run(t, "which", "--store", filepath.Join(t.TempDir(), "none"), "--registry", proxy.Addr+"/apps/edge", "libedge1>=2.0")
	if code == 0 {
		t.Errorf("--store and --registry together accepted")
	}
	out, errOut, code = run(t, "which", "--registry", proxy.Addr+"/apps/edge", "libedge1>=2.0")
	if code != 0 || !strings.Contains(out, "/apps/edge:v2") || strings.Contains(out, ":v1") {
		t.Errorf("which --registry: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = run(t, "inspect", "--store", dir, "--sbom", "spdx-json", "docker://"+proxy.Addr+"/apps/edge:v2")
	if code != 0 || !strings.Contains(out, `"referenceLocator": "pkg:deb/debian/libedge1@2.0?arch=`) {
		t.Errorf("inspect --sbom of a registry image: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, r := range proxy.Requests() {
		for _, l := range ls {
			if strings.HasSuffix(r, "/blobs/"+l.Digest.String()) {
				t.Errorf("which fetched a layer: %s", r)
			}
		}
	}
}
