package inspect

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/imagespec"
)

// A package in the config's label but in no layer, and one in a layer but
// not in the label, are both reported.
func TestLabelMismatchWarns(t *testing.T) {
	h := func(c string) v1.Hash { return v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(c, 64)} }
	m := &v1.Manifest{Layers: []v1.Descriptor{
		{Digest: h("a")},
		{Digest: h("b"), Annotations: map[string]string{imagespec.AnnotationPackage: "x", imagespec.AnnotationVersion: "1", imagespec.AnnotationArchitecture: "amd64"}},
		{Digest: h("c"), Annotations: map[string]string{imagespec.AnnotationGroup: "g", imagespec.AnnotationGroupPackages: "y=2,z=3",
			imagespec.AnnotationGroupMembers: `[{"package":"y","version":"2","architecture":"all","source":"ysrc (1.9)","debSHA256":"00"}]`}},
		{Digest: h("d")},
	}}
	cfg := &v1.ConfigFile{Architecture: "amd64", OS: "linux"}
	cfg.Config.Labels = map[string]string{imagespec.LabelCompose: "2", imagespec.LabelPackages: "x=1,y=2,w=4", imagespec.LabelHooks: "machine-id,openssh-server"}
	im := fromManifest("test", h("e"), 1, m, cfg, 1, nil)
	got := strings.Join(im.Warnings, "\n")
	if len(im.Warnings) != 2 || !strings.Contains(got, "w=4 is in the") || !strings.Contains(got, "z=3 is in a layer") {
		t.Errorf("warnings:\n%s", got)
	}
	if strings.Join(im.Hooks, " ") != "machine-id openssh-server" {
		t.Errorf("hooks %v", im.Hooks)
	}
	if k := []string{im.Layers[0].Kind, im.Layers[1].Kind, im.Layers[2].Kind, im.Layers[3].Kind}; strings.Join(k, " ") != "base package group configure" {
		t.Errorf("kinds %v", k)
	}
	if len(im.Packages) != 3 || im.Packages[1].Group != "g" || im.Packages[1].Layer != h("c") ||
		im.Packages[1].Architecture != "all" || im.Packages[1].Source != "ysrc" || im.Packages[1].SourceVersion != "1.9" || im.Packages[2].Architecture != "" {
		t.Errorf("packages %+v", im.Packages)
	}
}
