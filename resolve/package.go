package resolve

// Package is one binary package stanza as a Packages index holds it. The
// relation fields keep the raw control-field values; they are parsed only
// when the resolver needs them.
type Package struct {
	Name         string // Package
	Version      string // Version
	Architecture string // Architecture: the native architecture or "all"
	MultiArch    string // Multi-Arch: "", "no", "same", "foreign" or "allowed"
	Priority     string // Priority: required, important, standard, optional, extra
	Source       string // Source (informative only)
	Essential    bool   // Essential: yes
	// Important is apt's "Important: yes" or "Protected: yes"; apt prefers
	// such providers when it chooses among providers of a virtual package.
	Important bool

	Depends    string // Depends
	PreDepends string // Pre-Depends
	Recommends string // Recommends
	Suggests   string // Suggests (apt keeps what a Suggests reaches; see Resolve)
	Provides   string // Provides
	Conflicts  string // Conflicts
	Breaks     string // Breaks
	Replaces   string // Replaces (kept for the compose step; not used to resolve)
}

// Key names one package version unambiguously: NAME_VERSION_ARCH, the way
// a .deb file is named (without the epoch colon being special).
func (p *Package) Key() string {
	return p.Name + "_" + p.Version + "_" + p.Architecture
}

// String returns NAME (VERSION).
func (p *Package) String() string {
	return p.Name + " (" + p.Version + ")"
}
