package inspect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/inspect"
)

// TestSPDX checks the structure of the SPDX 2.3 document against the
// specification's rules for what deb2fs writes: the document's required
// fields, creationInfo, a documentNamespace that is an absolute URI
// without a fragment, unique SPDXIDs of the allowed form, required
// package fields, one purl per Debian package, relationships only between
// defined elements, the document DESCRIBES the image and the image
// CONTAINS every package; and that the same image gives the same bytes.
func TestSPDX(t *testing.T) {
	ts := newTestSet(t)
	cat, err := inspect.NewCatalog(ts.st)
	if err != nil {
		t.Fatal(err)
	}
	im, err := (&inspect.Opener{Catalog: cat}).Open(context.Background(), "oci:"+ts.dir+":edge")
	if err != nil {
		t.Fatal(err)
	}
	var buf, again bytes.Buffer
	if err := inspect.WriteSPDX(&buf, im, inspect.SBOMOptions{Tool: "deb2fs-test"}); err != nil {
		t.Fatal(err)
	}
	inspect.WriteSPDX(&again, im, inspect.SBOMOptions{Tool: "deb2fs-test"})
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("two SBOMs of one image differ")
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	str := func(m map[string]any, k string) string {
		s, _ := m[k].(string)
		return s
	}
	for k, want := range map[string]string{"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT"} {
		if got := str(doc, k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if str(doc, "name") == "" {
		t.Error("document has no name")
	}
	ns, err := url.Parse(str(doc, "documentNamespace"))
	if err != nil || !ns.IsAbs() || ns.Host == "" || ns.Fragment != "" || strings.Contains(str(doc, "documentNamespace"), "#") {
		t.Errorf("documentNamespace %q is not an absolute URI without '#'", str(doc, "documentNamespace"))
	}
	if !strings.Contains(str(doc, "documentNamespace"), im.Digest.Hex) {
		t.Error("documentNamespace is not unique to the image")
	}
	ci, _ := doc["creationInfo"].(map[string]any)
	if ci == nil {
		t.Fatal("no creationInfo")
	}
	if c, err := time.Parse(time.RFC3339, str(ci, "created")); err != nil || !strings.HasSuffix(str(ci, "created"), "Z") || !c.Equal(im.Created) {
		t.Errorf("creationInfo.created %q: %v (want the image's creation time in UTC)", str(ci, "created"), err)
	}
	creators, _ := ci["creators"].([]any)
	if len(creators) == 0 || !regexp.MustCompile(`^(Tool|Organization|Person): .+`).MatchString(creators[0].(string)) {
		t.Errorf("creators %v", creators)
	}

	idRE := regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)
	purlRE := regexp.MustCompile(`^pkg:deb/debian/[a-z0-9][a-z0-9.%-]*@[A-Za-z0-9.~%_-]+\?arch=[a-z0-9]+$`)
	ids := map[string]bool{"SPDXRef-DOCUMENT": true}
	pkgs, _ := doc["packages"].([]any)
	if len(pkgs) != len(im.Packages)+1 {
		t.Fatalf("%d SPDX packages, want %d (the image and its packages)", len(pkgs), len(im.Packages)+1)
	}
	var imageID string
	debIDs := map[string]string{} // SPDXID → purl
	for _, x := range pkgs {
		p := x.(map[string]any)
		id := str(p, "SPDXID")
		if !idRE.MatchString(id) {
			t.Errorf("SPDXID %q has characters SPDX does not allow", id)
		}
		if ids[id] {
			t.Errorf("SPDXID %q is not unique", id)
		}
		ids[id] = true
		for _, k := range []string{"name", "downloadLocation", "licenseConcluded", "licenseDeclared", "copyrightText"} {
			if str(p, k) == "" {
				t.Errorf("%s: no %s", id, k)
			}
		}
		if fa, ok := p["filesAnalyzed"].(bool); !ok || fa {
			t.Errorf("%s: filesAnalyzed must be present and false (no files are listed)", id)
		}
		if str(p, "primaryPackagePurpose") == "CONTAINER" {
			imageID = id
			continue
		}
		refs, _ := p["externalRefs"].([]any)
		if len(refs) != 1 {
			t.Errorf("%s: %d externalRefs, want one purl", id, len(refs))
			continue
		}
		r := refs[0].(map[string]any)
		if str(r, "referenceCategory") != "PACKAGE-MANAGER" || str(r, "referenceType") != "purl" || !purlRE.MatchString(str(r, "referenceLocator")) {
			t.Errorf("%s: externalRef %v", id, r)
		}
		want := "pkg:deb/debian/" + str(p, "name") + "@" + strings.NewReplacer(":", "%3A", "+", "%2B").Replace(str(p, "versionInfo")) + "?arch="
		if !strings.HasPrefix(str(r, "referenceLocator"), want) {
			t.Errorf("%s: purl %q does not start with %q", id, str(r, "referenceLocator"), want)
		}
		for _, c := range p["checksums"].([]any) {
			c := c.(map[string]any)
			if str(c, "algorithm") != "SHA256" || len(str(c, "checksumValue")) != 64 {
				t.Errorf("%s: checksum %v", id, c)
			}
		}
		debIDs[id] = str(r, "referenceLocator")
	}
	if imageID == "" {
		t.Fatal("no package with primaryPackagePurpose CONTAINER for the image")
	}
	if got := debIDs["SPDXRef-Package-deb-edge-modes-"+im.Find("edge-modes")[0].Architecture+"-1.0"]; got == "" {
		t.Errorf("edge-modes: no package with the expected SPDXID among %v", debIDs)
	}
	describes, contains := 0, map[string]bool{}
	for _, x := range doc["relationships"].([]any) {
		r := x.(map[string]any)
		a, typ, b := str(r, "spdxElementId"), str(r, "relationshipType"), str(r, "relatedSpdxElement")
		if !ids[a] || !ids[b] {
			t.Errorf("relationship %s %s %s names an undefined element", a, typ, b)
		}
		switch {
		case a == "SPDXRef-DOCUMENT" && typ == "DESCRIBES" && b == imageID:
			describes++
		case a == imageID && typ == "CONTAINS":
			contains[b] = true
		default:
			t.Errorf("unexpected relationship %s %s %s", a, typ, b)
		}
	}
	if describes != 1 {
		t.Errorf("%d DESCRIBES relationships from the document to the image, want 1", describes)
	}
	for id := range debIDs {
		if !contains[id] {
			t.Errorf("the image does not CONTAIN %s", id)
		}
	}
	if !strings.Contains(buf.String(), `"sourceInfo": "built package from: edge-src"`) {
		t.Error("edge-modes's source package is not in sourceInfo")
	}
}

// TestPURL checks package URLs of versions with an epoch, a '+' and a
// '~', encoded as syft encodes them.
func TestPURL(t *testing.T) {
	for _, tc := range []struct {
		p    inspect.Package
		want string
	}{
		{inspect.Package{Name: "libc6", Version: "2.36-9+deb12u9", Architecture: "amd64"}, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u9?arch=amd64"},
		{inspect.Package{Name: "libpam-runtime", Version: "1:1.5.2-6", Architecture: "all"}, "pkg:deb/debian/libpam-runtime@1%3A1.5.2-6?arch=all"},
		{inspect.Package{Name: "x", Version: "1.0~rc1"}, "pkg:deb/debian/x@1.0~rc1"},
	} {
		if got := inspect.PURL(&tc.p); got != tc.want {
			t.Errorf("PURL(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}
