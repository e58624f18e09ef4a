package convert

import "testing"

func TestCleanName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{"./", "", false},
		{".", "", false},
		{"./usr/bin/", "usr/bin", false},
		{"usr//bin/x", "usr/bin/x", false},
		{"./a/./b", "a/b", false},
		{"/etc/passwd", "", true},
		{"./../etc", "", true},
		{"a/../../b", "", true},
		{"a/../b", "", true},
		{"./usr/x\n/etc/passwd", "", true},
		{"./usr/x\n", "", true},
		{"./usr/a b\tc\r", "usr/a b\tc\r", false}, // dpkg refuses only newlines
	} {
		got, err := cleanName(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("cleanName(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestMergedPath(t *testing.T) {
	for in, want := range map[string]string{
		"bin":                            "usr/bin",
		"bin/ls":                         "usr/bin/ls",
		"sbin/ldconfig":                  "usr/sbin/ldconfig",
		"lib/x86_64-linux-gnu/libc.so.6": "usr/lib/x86_64-linux-gnu/libc.so.6",
		"lib64/ld.so":                    "usr/lib64/ld.so",
		"lib32":                          "usr/lib32",
		"libx32/a":                       "usr/libx32/a",
		"library/x":                      "library/x",
		"binaries":                       "binaries",
		"usr/bin/ls":                     "usr/bin/ls",
		"etc/lib/x":                      "etc/lib/x",
	} {
		if got := mergedPath(in); got != want {
			t.Errorf("mergedPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRewriteSymlink(t *testing.T) {
	for _, tc := range []struct{ orig, target, want string }{
		// Absolute targets into merged directories move under /usr.
		{"lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"},
		{"usr/bin/x", "/etc/alternatives/x", "/etc/alternatives/x"},
		{"usr/bin/x", "/", "/"},
		// A link that moved keeps pointing at the same file.
		{"bin/foo", "../usr/bin/bar", "bar"},
		{"bin/sh", "dash", "dash"},
		{"sbin/x", "../bin/y", "../bin/y"},
		{"lib/a/b.so", "../../usr/lib/c.so", "../c.so"},
		// A link that did not move, to a merged directory, skips the compat link.
		{"usr/lib/x86_64-linux-gnu/libz.so", "../../../lib/x86_64-linux-gnu/libz.so.1", "libz.so.1"},
		// Unaffected links are kept byte for byte.
		{"usr/share/doc/x", "../y/", "../y/"},
		{"etc/x", "../usr/share/z", "../usr/share/z"},
		// ".." above the root stays at the root, as in the kernel.
		{"bin/up", "../../../../etc", "../../etc"},
	} {
		if got := rewriteSymlink(tc.orig, mergedPath(tc.orig), tc.target); got != tc.want {
			t.Errorf("rewriteSymlink(%q, %q) = %q, want %q", tc.orig, tc.target, got, tc.want)
		}
	}
}
