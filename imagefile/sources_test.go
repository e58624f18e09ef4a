package imagefile_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/deb2fs/deb2fs/archive/archivetest"
	"github.com/deb2fs/deb2fs/compose"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/imagefile"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/internal/hosttest"
	"github.com/deb2fs/deb2fs/lockfile"
	"github.com/deb2fs/deb2fs/output"
	"github.com/deb2fs/deb2fs/resolve"
	"github.com/deb2fs/deb2fs/store"
)

// extraArchive publishes a signed archive on 127.0.0.1 holding one
// package, hello-extra 1.0 (Depends: nginx, which only the host's archive
// has), built with dpkg-deb, and returns it, the .deb's bytes and a build
// context holding the archive's keyring as keys/extra.gpg.
func extraArchive(t *testing.T) (*archivetest.Archive, []byte, string) {
	t.Helper()
	root := t.TempDir()
	for name, data := range map[string]string{
		"DEBIAN/control": "Package: hello-extra\nVersion: 1.0\nArchitecture: all\nMaintainer: deb2fs tests <tests@deb2fs.invalid>\n" +
			"Depends: nginx\nDescription: a package of a third-party repository\n",
		"usr/bin/hello-extra": "#!/bin/sh\necho hello from the extra source\n",
	} {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "DEBIAN/control"), 0o644)
	debPath := filepath.Join(t.TempDir(), "hello-extra_1.0_all.deb")
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, debPath)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1767225600")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	deb, err := os.ReadFile(debPath)
	if err != nil {
		t.Fatal(err)
	}
	a := archivetest.New(t)
	const pool = "pool/main/h/hello-extra/hello-extra_1.0_all.deb"
	a.WriteFile(pool, deb)
	ctl, _ := os.ReadFile(filepath.Join(root, "DEBIAN/control"))
	stanza := fmt.Sprintf("%sFilename: %s\nSize: %d\nSHA256: %s\n", ctl, pool, len(deb), archivetest.SHA256(deb))
	a.Publish(archivetest.Suite{
		Name: "extra",
		Header: fmt.Sprintf("Origin: Extra\nLabel: Extra\nSuite: extra\nCodename: extra\nArchitectures: amd64 arm64\nComponents: main\nDate: %s\n",
			time.Now().UTC().Add(-time.Hour).Format(time.RFC1123)),
		Indexes: []archivetest.Index{
			{Path: "main/binary-amd64/Packages", Data: []byte(stanza), Gzip: true},
			{Path: "main/binary-arm64/Packages", Data: []byte(stanza), Gzip: true},
		},
	})
	ctxDir := t.TempDir()
	kr, err := os.ReadFile(a.Keyring)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(ctxDir, "keys"), 0o755)
	if err := os.WriteFile(filepath.Join(ctxDir, "keys/extra.gpg"), kr, 0o644); err != nil {
		t.Fatal(err)
	}
	return a, deb, ctxDir
}

// writeDefinition writes image.yaml into ctxDir and loads it.
func writeDefinition(t *testing.T, ctxDir, uri string) *imagefile.Definition {
	t.Helper()
	def := fmt.Sprintf("name: extra\npackages: [hello-extra]\nsources:\n  - uri: %s\n    suites: [extra]\n    components: [main]\n    keyring: keys/extra.gpg\n", uri)
	p := filepath.Join(ctxDir, "image.yaml")
	if err := os.WriteFile(p, []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := imagefile.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withLayers is idx with the layers of es (resolved over it) filled in.
func withLayers(idx *index.Index, es []index.Entry) *index.Index {
	out := *idx
	out.Packages = append([]index.Entry(nil), idx.Packages...)
	by := map[string]index.Layer{}
	for _, e := range es {
		by[e.DebSHA256] = e.Layer
	}
	for i, e := range out.Packages {
		if l, ok := by[e.DebSHA256]; ok {
			out.Packages[i].Layer = l
		}
	}
	return &out
}

// An extra apt source of a definition, signed with its own keyring from
// the build context: its package is resolved with the host's archive (its
// dependency, nginx, comes from there), fetched, verified and converted
// into the store, and composes into an image where dpkg has it installed.
// A lock of the set composes again in a fresh store, fetching the
// source's package anew. A keyring that did not sign the source, and a
// Packages list changed after signing, are refused naming the source.
func TestExtraSource(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("compose needs root")
	}
	a, deb, ctxDir := extraArchive(t)
	d := writeDefinition(t, ctxDir, a.URL)
	if len(d.Sources) != 1 || d.Sources[0].SignedBy != filepath.Join(ctxDir, "keys/extra.gpg") {
		t.Fatalf("sources: %+v", d.Sources)
	}
	ctx := context.Background()
	s := hosttest.CacheStore(t)
	host := hosttest.HostIndex(t)
	// The store converts a .deb once: a warm test store has it already
	// and the source is then asked for its lists only.
	_, had, err := s.LookupRecord(convert.Key{DebSHA256: archivetest.SHA256(deb), Compression: convert.Gzip})
	if err != nil {
		t.Fatal(err)
	}
	es, req, err := d.Resolve(ctx, s, host)
	if err != nil {
		t.Fatal(err)
	}
	var extra *index.Entry
	for i, e := range es {
		if e.Package == "hello-extra" {
			extra = &es[i]
		}
	}
	if extra == nil || extra.DebSHA256 != archivetest.SHA256(deb) || extra.Layer.Digest.Hex == "" {
		t.Fatalf("hello-extra in the resolved set: %+v", extra)
	}
	if rec, ok, err := s.LookupRecord(convert.Key{DebSHA256: extra.DebSHA256, Compression: convert.Gzip}); err != nil || !ok || rec.Digest != extra.Layer.Digest {
		t.Fatalf("the store's record of hello-extra: %v %v %v", rec, ok, err)
	}
	if fetched := strings.Contains(strings.Join(a.Requests(), " "), "/pool/main/h/hello-extra/"); fetched == had {
		t.Errorf("the store had the conversion before: %v; the .deb was fetched: %v (requests %v)", had, fetched, a.Requests())
	}
	// The archive part of the set, with its layers, as the mirror has it.
	var names []string
	for _, e := range es {
		if e.Package != "hello-extra" {
			names = append(names, e.Package+"="+e.Version)
		}
	}
	archivePart := hosttest.HostSet(t, s, resolve.Request{Install: names})
	set := append(archivePart, *extra)
	img, err := compose.Compose(ctx, compose.Options{Packages: set, Request: req, Store: s,
		Output: output.Layout{Dir: t.TempDir(), Tag: "extra"}, Definition: "image.yaml@" + d.Digest})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range img.Packages {
		found = found || e.Package == "hello-extra"
	}
	if !found {
		t.Errorf("the image has no hello-extra among %d packages", len(img.Packages))
	}
	t.Logf("image %s: %d packages, hello-extra from %s", img.Manifest.Digest, len(img.Packages), a.URL)

	t.Run("locked", func(t *testing.T) {
		l, err := lockfile.New(req, nil, img.Manifest.Digest, set)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := store.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		a.TakeRequests()
		got, _, err := d.ResolveLocked(ctx, fresh, l, withLayers(host, set))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(set) {
			t.Fatalf("locked set of %d packages, want %d", len(got), len(set))
		}
		for _, e := range got {
			if e.Package == "hello-extra" && e.Layer.Digest != extra.Layer.Digest {
				t.Errorf("hello-extra converted again in a fresh store: layer %s, locked %s", e.Layer.Digest, extra.Layer.Digest)
			}
		}
		if !fresh.HasBlob(extra.Layer.Digest) {
			t.Error("the fresh store lacks hello-extra's layer")
		}
		if !strings.Contains(strings.Join(a.TakeRequests(), " "), "/pool/main/h/hello-extra/") {
			t.Error("the locked package was not fetched from the source into the fresh store")
		}
	})

	t.Run("wrong-keyring", func(t *testing.T) {
		_, rogue := archivetest.Keys(t)
		var kr bytes.Buffer
		if err := rogue.Serialize(&kr); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "keys"), 0o755)
		os.WriteFile(filepath.Join(dir, "keys/extra.gpg"), kr.Bytes(), 0o644)
		bad := writeDefinition(t, dir, a.URL)
		_, _, err := bad.Resolve(ctx, s, host)
		if err == nil || !strings.Contains(err.Error(), a.URL) || !strings.Contains(err.Error(), "image.yaml") {
			t.Fatalf("a source signed by a key its keyring lacks: %v, want an error naming the definition and the source", err)
		}
		t.Log(err)
	})

	t.Run("tampered-list", func(t *testing.T) {
		b, _, dir := extraArchive(t)
		data, err := os.ReadFile(filepath.Join(b.Root, "dists/extra/main/binary-amd64/Packages"))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteFile("dists/extra/main/binary-amd64/Packages", bytes.Replace(data, []byte("Version: 1.0"), []byte("Version: 1.1"), 1))
		os.Remove(filepath.Join(b.Root, "dists/extra/main/binary-amd64/Packages.gz"))
		bad := writeDefinition(t, dir, b.URL)
		_, _, err = bad.Resolve(ctx, s, host)
		if err == nil || !strings.Contains(err.Error(), b.URL) {
			t.Fatalf("a Packages list changed after signing: %v, want an error naming the source", err)
		}
		t.Log(err)
	})
}
