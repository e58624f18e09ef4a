package convert

import (
	"fmt"
	"path"
	"strings"
)

// mergedDirs are the top-level directories that merged-/usr targets make
// symlinks into /usr. The composed image's base layer provides the
// symlinks; package layers hold the files at their /usr paths.
var mergedDirs = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// cleanName turns a tar entry name ("./usr/bin/x", "usr/bin/x/") into a
// clean relative path ("usr/bin/x"); "" is the root. Absolute names and
// names with ".." components are refused: no legitimate package has them
// and they would write outside the root. So are names with a newline, as
// dpkg's tarobject (src/main/archives.c) refuses them: the .list holds one
// path per line, and "usr/x\n/etc/passwd" would list /etc/passwd.
func cleanName(name string) (string, error) {
	if strings.Contains(name, "\n") {
		return "", fmt.Errorf("name %q contains a newline (dpkg refuses it: the .list is one path per line)", name)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("absolute path %q", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q escapes the root", name)
		}
	}
	p := path.Clean(name)
	if p == "." {
		return "", nil
	}
	return p, nil
}

// mergedPath maps a clean relative path to its merged-/usr location:
// "bin/ls" → "usr/bin/ls", "lib64" → "usr/lib64"; other paths are kept.
func mergedPath(p string) string {
	top, _, _ := strings.Cut(p, "/")
	for _, d := range mergedDirs {
		if top == d {
			return "usr/" + p
		}
	}
	return p
}

// isMergedDir reports whether p is one of the top-level merged directories.
func isMergedDir(p string) bool {
	for _, d := range mergedDirs {
		if p == d {
			return true
		}
	}
	return false
}

// rewriteSymlink returns the target for a symlink that the package ships at
// orig (clean, relative) and the layer holds at merged. Absolute targets
// into a merged directory are moved under /usr; relative targets are
// recomputed from the link's new directory whenever the link moved or its
// target lies in a merged directory, so that it resolves to the same file it
// did on the unmerged system, without going through the compat symlinks.
func rewriteSymlink(orig, merged, target string) string {
	if target == "" {
		return target
	}
	if strings.HasPrefix(target, "/") {
		rel := strings.TrimPrefix(path.Clean(target), "/")
		if rel == "" {
			return target
		}
		if m := mergedPath(rel); m != rel {
			return "/" + m
		}
		return target
	}
	// Resolve lexically as the kernel would at the link's original place;
	// ".." above the root stays at the root.
	resolved := strings.TrimPrefix(path.Join("/", path.Dir(orig), target), "/")
	canon := mergedPath(resolved)
	if canon == resolved && merged == orig {
		return target
	}
	rel := relPath(path.Dir(merged), canon)
	if strings.HasSuffix(target, "/") && rel != "." {
		rel += "/"
	}
	return rel
}

// relPath returns the relative path from directory dir to p, both clean and
// relative to the root ("" or "." is the root).
func relPath(dir, p string) string {
	split := func(s string) []string {
		if s == "" || s == "." {
			return nil
		}
		return strings.Split(s, "/")
	}
	from, to := split(dir), split(p)
	i := 0
	for i < len(from) && i < len(to) && from[i] == to[i] {
		i++
	}
	var parts []string
	for range from[i:] {
		parts = append(parts, "..")
	}
	parts = append(parts, to[i:]...)
	if len(parts) == 0 {
		return "."
	}
	return strings.Join(parts, "/")
}
