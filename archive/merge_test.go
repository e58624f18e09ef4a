package archive

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/deb2fs/deb2fs/aptsources"
)

func TestMergeSuites(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("bookworm", []testPkg{
		{name: "hello", version: "2.10-3", arch: "amd64"},
		{name: "libc6", version: "2.36-9+deb12u10", arch: "amd64"},
		{name: "tzdata", version: "2024a-0+deb12u1", arch: "all"},
		{name: "zlib1g", version: "1:1.2.13.dfsg-1", arch: "amd64"},
	}, suiteOpts{})
	a.addSuite("bookworm-updates", []testPkg{
		{name: "hello", version: "2.10-3+deb12u1", arch: "amd64"}, // higher: wins
		{name: "libc6", version: "2.36-9+deb12u9", arch: "amd64"}, // lower: loses
		{name: "tzdata", version: "2025b-0+deb12u1", arch: "all"}, // higher: wins
		{name: "zlib1g", version: "1.3-1", arch: "amd64"},         // no epoch: loses to 1:
		{name: "newpkg", version: "1.0~rc1", arch: "amd64"},
	}, suiteOpts{})
	src := a.source("bookworm", "bookworm-updates")
	snap, err := a.client().Load(ctx, []aptsources.Source{src}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Releases) != 2 || len(snap.Indexes) != 2 || len(snap.Skipped) != 0 {
		t.Fatalf("snapshot %d releases, %d indexes, skipped %v", len(snap.Releases), len(snap.Indexes), snap.Skipped)
	}
	merged, err := snap.Merge()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range merged {
		got = append(got, p.Name+"="+p.Version+"@"+p.Release.Dist)
	}
	want := "hello=2.10-3+deb12u1@bookworm-updates libc6=2.36-9+deb12u10@bookworm newpkg=1.0~rc1@bookworm-updates " +
		"tzdata=2025b-0+deb12u1@bookworm-updates zlib1g=1:1.2.13.dfsg-1@bookworm"
	if strings.Join(got, " ") != want {
		t.Errorf("merged:\n %s\nwant\n %s", strings.Join(got, " "), want)
	}
}

func TestMergeArchAllOnceAndBadVersion(t *testing.T) {
	rel := &Release{Dist: "d"}
	amd := &Index{Packages: []Package{{Name: "doc", Version: "1", Architecture: "all", Release: rel}, {Name: "x", Version: "1", Architecture: "amd64"}}}
	arm := &Index{Packages: []Package{{Name: "doc", Version: "1", Architecture: "all"}, {Name: "x", Version: "2", Architecture: "arm64"}}}
	m, err := Merge(amd, arm)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 3 || m[0].Release != rel {
		t.Errorf("merged %d, first from %v", len(m), m[0].Release)
	}
	bad := &Index{Packages: []Package{{Name: "x", Version: "1:", Architecture: "amd64"}}}
	if _, err := Merge(amd, bad); err == nil || !strings.Contains(err.Error(), `"1:"`) {
		t.Errorf("bad version: %v", err)
	}
}

func TestLoadLenientAndStrict(t *testing.T) {
	a := newTestArchive(t)
	a.addSuite("bookworm", basePkgs, suiteOpts{})
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close() // nothing listens there any more
	third := aptsources.Source{URI: deadURL + "/thirdparty", Suites: []string{"nodistro"}, Components: []string{"main"}, SignedBy: a.Keyring, Origin: "third.sources:1"}
	srcs := []aptsources.Source{a.source("bookworm"), third}

	snap, err := a.client().Load(ctx, srcs, false)
	if err != nil {
		t.Fatalf("lenient: %v", err)
	}
	if len(snap.Indexes) != 1 || len(snap.Skipped) != 1 {
		t.Fatalf("lenient: %d indexes, skipped %v", len(snap.Indexes), snap.Skipped)
	}
	wantErr(t, snap.Skipped[0], false, deadURL, "nodistro", "third.sources:1")

	_, err = a.client().Load(ctx, srcs, true)
	wantErr(t, err, false, deadURL, "nodistro")

	// A verification failure sinks the load even when lenient.
	a.addSuite("bookworm-security", basePkgs, suiteOpts{validUntil: testNow.Add(-1)})
	_, err = a.client().Load(ctx, []aptsources.Source{a.source("bookworm", "bookworm-security")}, false)
	wantErr(t, err, true, "bookworm-security", "expired")

	// Nothing loadable at all.
	_, err = a.client().Load(ctx, []aptsources.Source{third}, false)
	wantErr(t, err, false, "every apt source failed", deadURL)
}

func TestGroupDists(t *testing.T) {
	s1 := aptsources.Source{URI: "http://a/d", Suites: []string{"s", "s-updates"}, Components: []string{"main"}, Architectures: []string{"amd64"}}
	s2 := aptsources.Source{URI: "http://a/d", Suites: []string{"s"}, Components: []string{"contrib"}, Architectures: []string{"arm64"}}
	d, err := groupDists([]aptsources.Source{s1, s2})
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 2 || strings.Join(d[0].src.Components, ",") != "main,contrib" || strings.Join(d[0].src.Architectures, ",") != "amd64,arm64" {
		t.Errorf("%+v", d)
	}
	s2.SignedBy = "/other.gpg"
	if _, err := groupDists([]aptsources.Source{s1, s2}); err == nil {
		t.Error("conflicting Signed-By accepted")
	}
}
