package convert_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/fixtures"
)

// The real packages the oracle tests run on, and what each one covers.
var realPackages = []string{
	"coreutils",      // /bin paths under merged /usr, no preinst
	"libc6",          // Multi-Arch: same (info/libc6:amd64.*), /lib64 symlink, preinst, conffile
	"bash",           // essential, /bin/bash
	"openssh-server", // preinst, many conffiles, templates/config
	"nginx-common",   // Architecture: all, conffiles
	"ca-certificates",
	"libssl3",   // Multi-Arch: same library
	"perl-base", // hard links
}

// entry is one tar entry of a layer or of dpkg-deb's output.
type entry struct {
	hdr  tar.Header
	sum  string // sha256 of the content
	data []byte // content, kept for files under var/lib/dpkg
}

func readTar(t *testing.T, r io.Reader) []entry {
	t.Helper()
	tr := tar.NewReader(r)
	var out []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading tar: %v", err)
		}
		var buf bytes.Buffer
		sum := sha256.New()
		if _, err := io.Copy(io.MultiWriter(sum, &buf), tr); err != nil {
			t.Fatal(err)
		}
		e := entry{hdr: *h, sum: hex.EncodeToString(sum.Sum(nil))}
		if strings.HasPrefix(strings.TrimPrefix(h.Name, "./"), "var/lib/dpkg/") {
			e.data = buf.Bytes()
		}
		out = append(out, e)
	}
}

// convertDeb converts a .deb in memory and returns its layer and entries.
func convertDeb(t *testing.T, debPath string, opts convert.Options) (*convert.Layer, []entry, []byte) {
	t.Helper()
	f, err := os.Open(debPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blob bytes.Buffer
	l, err := convert.Convert(context.Background(), f, &blob, opts)
	if err != nil {
		t.Fatalf("Convert(%s): %v", debPath, err)
	}
	raw, err := decompressLayer(blob.Bytes(), l)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(blob.Bytes())
	if got := "sha256:" + hex.EncodeToString(sum[:]); got != l.Digest.String() {
		t.Fatalf("layer digest %s, but the blob hashes to %s", l.Digest, got)
	}
	if int64(blob.Len()) != l.Size {
		t.Fatalf("layer size %d, blob has %d bytes", l.Size, blob.Len())
	}
	dsum := sha256.Sum256(raw)
	if got := "sha256:" + hex.EncodeToString(dsum[:]); got != l.DiffID.String() {
		t.Fatalf("layer diffID %s, but the tar hashes to %s", l.DiffID, got)
	}
	return l, readTar(t, bytes.NewReader(raw)), blob.Bytes()
}

// merged is the test's own statement of the merged-/usr rule.
func merged(p string) string {
	for _, d := range []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		if p == d || strings.HasPrefix(p, d+"/") {
			return "usr/" + p
		}
	}
	return p
}

// resolve returns where a symlink at dir/… with target points, as a clean
// path relative to the root, with merged directories canonicalised.
func resolve(dir, target string) string {
	if !strings.HasPrefix(target, "/") {
		target = path.Join("/", dir, target)
	}
	return merged(strings.TrimPrefix(path.Clean(target), "/"))
}

// TestLayerMatchesDpkgDeb checks every file entry of the layer against
// dpkg-deb --fsys-tarfile: same entries, after the documented path rewrite,
// with the same type, mode, owner, size, content, mtime and (resolved) link
// target; and nothing else in the layer but the dpkg database entries.
func TestLayerMatchesDpkgDeb(t *testing.T) {
	for name, deb := range testDebs(t) {
		t.Run(name, func(t *testing.T) { checkAgainstDpkgDeb(t, name, deb) })
	}
}

// testDebs returns the real packages and the hand-made edge cases, by name.
func testDebs(t *testing.T) map[string]string {
	debs := fixtures.RealDebs(t, realPackages...)
	dir := t.TempDir()
	for _, e := range fixtures.EdgeCases() {
		debs[e.Name] = e.Deb.WriteFile(t, dir, e.Name+".deb")
	}
	return debs
}

func checkAgainstDpkgDeb(t *testing.T, name, deb string) {
	l, layer, _ := convertDeb(t, deb, convert.Options{})
	byName := map[string]entry{}
	for _, e := range layer {
		byName[strings.TrimSuffix(e.hdr.Name, "/")] = e
	}
	out, err := exec.Command("dpkg-deb", "--fsys-tarfile", deb).Output()
	if err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile: %v", err)
	}
	seen := map[string]bool{}
	hardLinks := 0
	for _, want := range readTar(t, bytes.NewReader(out)) {
		orig := strings.TrimSuffix(strings.TrimPrefix(want.hdr.Name, "./"), "/")
		if orig == "" || orig == "." {
			continue // the root belongs to the base layer
		}
		p := merged(orig)
		seen[p] = true
		got, ok := byName[p]
		if !ok {
			t.Errorf("%s: missing from the layer (as %s)", orig, p)
			continue
		}
		h, g := want.hdr, got.hdr
		if g.Typeflag != h.Typeflag || g.Mode&07777 != h.Mode&07777 || g.Uid != h.Uid || g.Gid != h.Gid {
			t.Errorf("%s: type/mode/owner %c %o %d:%d, dpkg-deb has %c %o %d:%d", p,
				g.Typeflag, g.Mode, g.Uid, g.Gid, h.Typeflag, h.Mode, h.Uid, h.Gid)
		}
		switch h.Typeflag {
		case tar.TypeReg:
			if g.Size != h.Size || got.sum != want.sum || !g.ModTime.Equal(h.ModTime) {
				t.Errorf("%s: content or mtime differs", p)
			}
		case tar.TypeSymlink:
			if a, b := resolve(path.Dir(p), g.Linkname), resolve(path.Dir(orig), h.Linkname); a != b {
				t.Errorf("%s -> %s resolves to /%s, the package's %s -> %s to /%s", p, g.Linkname, a, orig, h.Linkname, b)
			}
		case tar.TypeLink:
			hardLinks++
			if g.Linkname != merged(strings.TrimPrefix(h.Linkname, "./")) {
				t.Errorf("%s: hard link to %s, dpkg-deb has %s", p, g.Linkname, h.Linkname)
			}
		case tar.TypeDir:
			if !g.ModTime.Equal(time0) {
				t.Errorf("%s: directory mtime %v, want the epoch", p, g.ModTime)
			}
		}
	}
	if name == "perl-base" && hardLinks == 0 {
		t.Errorf("perl-base: no hard link seen; the test no longer covers hard links")
	}
	info := "var/lib/dpkg/info/" + infoName(l) + "."
	for _, e := range layer {
		p := strings.TrimSuffix(e.hdr.Name, "/")
		switch {
		case seen[p]:
		case strings.HasPrefix(p, info), p == "var/lib/dpkg/status.d/"+infoName(l):
		case e.hdr.Typeflag == tar.TypeDir && (p == "var" || p == "var/lib" || p == "var/lib/dpkg" || p == "var/lib/dpkg/info" || p == "var/lib/dpkg/status.d"):
		default:
			t.Errorf("layer entry %s is neither in the package nor a dpkg database entry", p)
		}
	}
}

// TestDatabaseMatchesDpkgUnpack checks the layer's dpkg database entries
// against what a real `dpkg --unpack` writes into a minimal root: the same
// info files, byte for byte and with the same modes, and the same status
// stanza, but for the intended differences of docs/layer-format.md:
//   - conffiles: dpkg records "newconffile" after a fresh unpack, the layer
//     the md5 of the shipped file (it holds the conffile at its final path);
//   - a package already in the minimal root (coreutils, libc6, bash, perl-base)
//     is reinstalled, so dpkg adds Config-Version: the layer describes a
//     fresh unpack and has none;
//   - the fragment ends without the blank line that separates stanzas in
//     the shared status file.
func TestDatabaseMatchesDpkgUnpack(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("dpkg --root runs maintainer scripts in a chroot: needs root")
	}
	for name, deb := range testDebs(t) {
		t.Run(name, func(t *testing.T) { checkAgainstDpkgUnpack(t, deb) })
	}
}

func checkAgainstDpkgUnpack(t *testing.T, deb string) {
	l, layer, _ := convertDeb(t, deb, convert.Options{})
	root, added := fixtures.DpkgUnpack(t, deb)
	ours := map[string]entry{}
	for _, e := range layer {
		ours[e.hdr.Name] = e
	}
	prefix := "var/lib/dpkg/info/" + infoName(l) + "."
	dpkgInfo := map[string]bool{}
	for _, p := range added {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		dpkgInfo[p] = true
		want, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Lstat(filepath.Join(root, p))
		got, ok := ours[p]
		switch {
		case !ok:
			t.Errorf("%s: written by dpkg --unpack, missing from the layer", p)
		case !bytes.Equal(got.data, want):
			t.Errorf("%s: content differs from dpkg's (%d vs %d bytes)", p, len(got.data), len(want))
		case os.FileMode(got.hdr.Mode)&os.ModePerm != fi.Mode().Perm():
			t.Errorf("%s: mode %o, dpkg's %o", p, got.hdr.Mode, fi.Mode().Perm())
		}
	}
	for p := range ours {
		if strings.HasPrefix(p, prefix) && !dpkgInfo[p] {
			t.Errorf("%s: in the layer, not written by dpkg --unpack", p)
		}
	}
	if len(dpkgInfo) == 0 {
		t.Fatalf("dpkg --unpack wrote no %s* file: the oracle saw nothing", prefix)
	}

	statusData, err := os.ReadFile(filepath.Join(root, "var/lib/dpkg/status"))
	if err != nil {
		t.Fatal(err)
	}
	want := stanza(string(statusData), l.Package, l.Architecture)
	if want == "" {
		t.Fatalf("no stanza for %s in dpkg's status", l.Package)
	}
	want = dropField(want, "Config-Version")
	want = strings.ReplaceAll(want, " newconffile", "") // compared below
	got := string(ours["var/lib/dpkg/status.d/"+infoName(l)].data)
	gotNoHash := stripConffileHashes(got)
	if gotNoHash != stripConffileHashes(want) {
		t.Errorf("status stanza differs from dpkg's.\nlayer:\n%s\ndpkg:\n%s", got, want)
	}
	// The conffile hashes the layer records are those of the shipped files.
	for _, line := range conffileLines(got) {
		f := strings.Fields(line)
		e, ok := ours[strings.TrimPrefix(f[0], "/")]
		if !ok {
			continue // not shipped: dpkg's newconffile marker is kept
		}
		if sum := md5Of(t, root, f[0], e); sum != f[1] {
			t.Errorf("conffile %s: status has md5 %s, the shipped file has %s", f[0], f[1], sum)
		}
	}
}

var time0 = time.Unix(0, 0)

func infoName(l *convert.Layer) string {
	if l.MultiArch == "same" {
		return l.Package + ":" + l.Architecture
	}
	return l.Package
}

// stanza returns the status stanza of pkg (arch) without its trailing
// blank line.
func stanza(status, pkg, arch string) string {
	for _, s := range strings.Split(status, "\n\n") {
		if strings.HasPrefix(s, "Package: "+pkg+"\n") && strings.Contains(s, "\nArchitecture: "+arch+"\n") {
			return strings.TrimSpace(s) + "\n"
		}
	}
	return ""
}

func dropField(s, field string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, field+":") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func conffileLines(s string) []string {
	var out []string
	in := false
	for _, line := range strings.Split(s, "\n") {
		switch {
		case strings.HasPrefix(line, "Conffiles:"):
			in = true
		case in && strings.HasPrefix(line, " "):
			out = append(out, strings.TrimSpace(line))
		default:
			in = false
		}
	}
	return out
}

func stripConffileHashes(s string) string {
	lines := strings.Split(s, "\n")
	in := false
	for i, line := range lines {
		switch {
		case strings.HasPrefix(line, "Conffiles:"):
			in = true
		case in && strings.HasPrefix(line, " "):
			lines[i] = " " + strings.Fields(line)[0]
		default:
			in = false
		}
	}
	return strings.Join(lines, "\n")
}

// md5Of hashes a conffile as dpkg left it on disk: PATH.dpkg-new after a
// fresh unpack, PATH after a reinstall.
func md5Of(t *testing.T, root, p string, _ entry) string {
	for _, cand := range []string{p + ".dpkg-new", p} {
		if data, err := os.ReadFile(filepath.Join(root, cand)); err == nil {
			sum := md5.Sum(data)
			return hex.EncodeToString(sum[:])
		}
	}
	t.Fatalf("conffile %s: not found in dpkg's root", p)
	return ""
}

// decompressLayer undoes the layer's compression.
func decompressLayer(blob []byte, l *convert.Layer) ([]byte, error) {
	var r io.Reader
	if l.MediaType == convert.Zstd.MediaType() {
		d, err := zstd.NewReader(bytes.NewReader(blob))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		r = d
	} else {
		z, err := gzip.NewReader(bytes.NewReader(blob))
		if err != nil {
			return nil, err
		}
		r = z
	}
	return io.ReadAll(r)
}
