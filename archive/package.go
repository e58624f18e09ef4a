package archive

import (
	"fmt"
	"io"
	"strings"
)

// Package is one stanza of a Packages index, reduced to the fields a mirror
// and a resolver need. Dependency fields are kept as the raw strings of the
// index (continuation lines folded into spaces): parse them lazily with
// pault.ag/go/debian/dependency when they are needed.
type Package struct {
	Name          string // Package
	Version       string
	Architecture  string
	MultiArch     string // Multi-Arch: same, foreign, allowed, or ""
	Essential     bool
	Priority      string
	Section       string
	Source        string // Source, possibly "name (version)"; "" means the package's own name
	Depends       string
	PreDepends    string
	Provides      string
	Conflicts     string
	Breaks        string
	Replaces      string
	Recommends    string
	Suggests      string
	Important     bool  // Important: yes or Protected: yes (apt keeps such packages)
	InstalledSize int64 // Installed-Size, in KiB
	Filename      string
	Size          int64
	SHA256        string // lower-case hex

	// Release is the verified Release the package was listed by; nil for a
	// package read with [ReadPackages]. It gives the archive URI, codename,
	// date and signing key: the package's provenance.
	Release *Release
}

// URL returns the address of the package's .deb, or "" without a Release.
func (p *Package) URL() string {
	if p.Release == nil {
		return ""
	}
	return p.Release.URI + "/" + p.Filename
}

// ID names the package in messages: "name version arch".
func (p *Package) ID() string {
	return p.Name + " " + p.Version + " " + p.Architecture
}

// field indexes of the kept fields.
const (
	fPackage = iota
	fVersion
	fArchitecture
	fMultiArch
	fEssential
	fPriority
	fSection
	fSource
	fDepends
	fPreDepends
	fProvides
	fConflicts
	fBreaks
	fReplaces
	fRecommends
	fSuggests
	fImportant
	fProtected
	fInstalledSize
	fFilename
	fSize
	fSHA256
	nFields
)

func packageField(lower []byte) int {
	switch string(lower) {
	case "package":
		return fPackage
	case "version":
		return fVersion
	case "architecture":
		return fArchitecture
	case "multi-arch":
		return fMultiArch
	case "essential":
		return fEssential
	case "priority":
		return fPriority
	case "section":
		return fSection
	case "source":
		return fSource
	case "depends":
		return fDepends
	case "pre-depends":
		return fPreDepends
	case "provides":
		return fProvides
	case "conflicts":
		return fConflicts
	case "breaks":
		return fBreaks
	case "replaces":
		return fReplaces
	case "recommends":
		return fRecommends
	case "suggests":
		return fSuggests
	case "important":
		return fImportant
	case "protected":
		return fProtected
	case "installed-size":
		return fInstalledSize
	case "filename":
		return fFilename
	case "size":
		return fSize
	case "sha256":
		return fSHA256
	}
	return -1
}

// ReadPackages parses a Packages index (uncompressed) into compact
// [Package] values. It streams: no stanza is held as a paragraph, each
// package's kept values share one allocation. A stanza without Package or
// Version, or with a malformed Size, Installed-Size or SHA256, is an error
// naming its line.
func ReadPackages(r io.Reader) ([]Package, error) {
	return readPackages(r, 0)
}

func readPackages(r io.Reader, hint int) ([]Package, error) {
	out := make([]Package, 0, hint)
	sc := newStanzaScanner(r)
	var (
		lk    [64]byte
		buf   = make([]byte, 0, 4096)
		spans [nFields][2]int32
		seen  [nFields]bool
		cur   = -1
		start int
		open  bool // a stanza has started
	)
	for {
		kind, key, val := sc.next()
		switch kind {
		case lineField:
			if !open {
				start, open = sc.line, true
			}
			cur = packageField(lowerKey(&lk, key))
			if cur < 0 {
				continue
			}
			a := len(buf)
			buf = append(buf, val...)
			spans[cur] = [2]int32{int32(a), int32(len(buf))}
			seen[cur] = true
		case lineCont:
			if cur < 0 {
				continue
			}
			// Kept fields are all folded fields: a continuation is a space.
			if spans[cur][1] != int32(len(buf)) {
				// not the last value appended: move it to the end.
				a, b := spans[cur][0], spans[cur][1]
				buf = append(buf, buf[a:b]...)
				spans[cur][0] = int32(len(buf)) - (b - a)
			}
			if len(buf) > int(spans[cur][0]) {
				buf = append(buf, ' ')
			}
			buf = append(buf, val...)
			spans[cur][1] = int32(len(buf))
		case lineEnd:
			p, err := buildPackage(buf, &spans, &seen)
			if err != nil {
				return nil, fmt.Errorf("Packages stanza at line %d: %w", start, err)
			}
			out = append(out, p)
			buf = buf[:0]
			seen = [nFields]bool{}
			cur = -1
			open = false
		case lineEOF:
			if sc.err != nil {
				return nil, fmt.Errorf("Packages: %w", sc.err)
			}
			return out, nil
		}
	}
}

func buildPackage(buf []byte, spans *[nFields][2]int32, seen *[nFields]bool) (Package, error) {
	// One string holds every kept value of the stanza.
	s := string(buf)
	get := func(f int) string {
		if !seen[f] {
			return ""
		}
		return s[spans[f][0]:spans[f][1]]
	}
	raw := func(f int) []byte { return buf[spans[f][0]:spans[f][1]] }
	p := Package{
		Name:         get(fPackage),
		Version:      get(fVersion),
		Architecture: get(fArchitecture),
		MultiArch:    get(fMultiArch),
		Priority:     get(fPriority),
		Section:      get(fSection),
		Source:       get(fSource),
		Depends:      get(fDepends),
		PreDepends:   get(fPreDepends),
		Provides:     get(fProvides),
		Conflicts:    get(fConflicts),
		Breaks:       get(fBreaks),
		Replaces:     get(fReplaces),
		Recommends:   get(fRecommends),
		Suggests:     get(fSuggests),
		Filename:     get(fFilename),
		SHA256:       get(fSHA256),
	}
	if p.Name == "" {
		return p, fmt.Errorf("no Package field")
	}
	if p.Version == "" {
		return p, fmt.Errorf("%s: no Version field", p.Name)
	}
	if seen[fFilename] {
		if err := checkFilename(p.Filename); err != nil {
			return p, filenameError(&p, err)
		}
	}
	p.Essential = seen[fEssential] && string(raw(fEssential)) == "yes"
	p.Important = seen[fImportant] && string(raw(fImportant)) == "yes" || seen[fProtected] && string(raw(fProtected)) == "yes"
	var ok bool
	if seen[fSize] {
		if p.Size, ok = atoi(raw(fSize)); !ok {
			return p, fmt.Errorf("%s %s: bad Size %q", p.Name, p.Version, raw(fSize))
		}
	}
	if seen[fInstalledSize] {
		if p.InstalledSize, ok = atoi(raw(fInstalledSize)); !ok {
			return p, fmt.Errorf("%s %s: bad Installed-Size %q", p.Name, p.Version, raw(fInstalledSize))
		}
	}
	if seen[fSHA256] && !isHex(p.SHA256, 64) {
		if l := strings.ToLower(p.SHA256); isHex(l, 64) {
			p.SHA256 = l
		} else {
			return p, fmt.Errorf("%s %s: bad SHA256 %q", p.Name, p.Version, p.SHA256)
		}
	}
	return p, nil
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
