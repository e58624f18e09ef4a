package dpkg

// OCIPlatform maps a Debian architecture to the OCI (Go) architecture and
// variant of an image config; "all" and unknown names are returned as is.
func OCIPlatform(debArch string) (arch, variant string) {
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
