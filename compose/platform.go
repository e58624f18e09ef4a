package compose

import "github.com/deb2fs/deb2fs/mirror"

// ociPlatform maps a Debian architecture to an OCI architecture and
// variant.
func ociPlatform(debArch string) (arch, variant string) {
	switch debArch {
	case "i386":
		return "386", ""
	case "armhf":
		return "arm", "v7"
	case "armel":
		return "arm", "v5"
	case "ppc64el":
		return "ppc64le", ""
	case "mips64el":
		return "mips64le", ""
	}
	return debArch, ""
}

// nativeArch is the Debian architecture of a package set: that of its
// first package that is not Architecture: all.
func nativeArch(es []mirror.Entry) string {
	for _, e := range es {
		if e.Architecture != "all" {
			return e.Architecture
		}
	}
	return ""
}
