package aptsources

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// DefaultKeyring is the keyring a source without Signed-By is verified
// against; TrustedDir holds the further keyrings a Signed-By of
// fingerprints alone selects from.
const (
	DefaultKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
	TrustedDir     = "/etc/apt/trusted.gpg.d"
)

// Source is one archive base URI with the suites, components and
// architectures to take from it, and the keys it must be signed by. It is
// one URI of a deb822 stanza or one `deb` line.
type Source struct {
	// URI is the archive base, without a trailing slash: the directory that
	// holds dists/ and pool/.
	URI string
	// Suites are the names under dists/ (bookworm, bookworm-security).
	Suites []string
	// Components are the components to read (main, contrib).
	Components []string
	// Architectures are the binary architectures to read; empty means the
	// native one (see [Source.Archs]).
	Architectures []string
	// SignedBy is apt's Signed-By value: one or more keyring paths or key
	// fingerprints (comma or space separated), or an inline armored public
	// key block. Empty means the client's default keyring.
	SignedBy string
	// NoValidUntil is set by check-valid-until=no: the Release's Valid-Until
	// is not enforced.
	NoValidUntil bool
	// Origin says where the source was configured ("file:line"), for messages.
	Origin string
}

// Archs returns the source's architectures, or the native one if it names none.
func (s Source) Archs() []string {
	if len(s.Architectures) > 0 {
		return s.Architectures
	}
	return []string{NativeArch()}
}

// String is "URI suites components [architectures]".
func (s Source) String() string {
	return fmt.Sprintf("%s %s %s [%s]", s.URI, strings.Join(s.Suites, ","),
		strings.Join(s.Components, ","), strings.Join(s.Archs(), ","))
}

// NativeArch returns the Debian architecture of the running program
// (amd64, arm64, i386, armhf, ppc64el, ...).
func NativeArch() string {
	switch runtime.GOARCH {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	case "ppc64le":
		return "ppc64el"
	case "mips64le":
		return "mips64el"
	case "mipsle":
		return "mipsel"
	case "loong64":
		return "loong64"
	}
	return runtime.GOARCH
}

// Override is what the command line says instead of (or on top of) the
// host's apt sources: --archive URL --suite S --component C --arch A, each
// repeatable, and a keyring.
type Override struct {
	Archives      []string // archive base URIs
	Suites        []string
	Components    []string
	Architectures []string
	SignedBy      string // keyring path(s) or fingerprint(s); empty: the client's default
}

// IsZero reports whether the override says nothing.
func (o Override) IsZero() bool {
	return len(o.Archives) == 0 && len(o.Suites) == 0 && len(o.Components) == 0 &&
		len(o.Architectures) == 0 && o.SignedBy == ""
}

// Apply returns the sources to use given the host's sources.
//
// With Archives, the host's sources are ignored: one source per archive,
// with the override's Suites (required), Components (default main),
// Architectures and SignedBy. Without Archives, the host's sources are kept
// and narrowed: Suites keeps only those suites (each must be configured on
// the host), Components and Architectures replace the host's, SignedBy
// replaces every source's keyring.
func (o Override) Apply(host []Source) ([]Source, error) {
	if len(o.Archives) > 0 {
		if len(o.Suites) == 0 {
			return nil, fmt.Errorf("archive override %s: no suite given", strings.Join(o.Archives, " "))
		}
		comps := o.Components
		if len(comps) == 0 {
			comps = []string{"main"}
		}
		var out []Source
		for _, a := range o.Archives {
			u := strings.TrimRight(a, "/")
			if err := checkScheme(u); err != nil {
				return nil, fmt.Errorf("archive override: %w", err)
			}
			out = append(out, Source{
				URI:           u,
				Suites:        slices.Clone(o.Suites),
				Components:    slices.Clone(comps),
				Architectures: slices.Clone(o.Architectures),
				SignedBy:      o.SignedBy,
				Origin:        "override",
			})
		}
		return out, nil
	}
	var out []Source
	found := map[string]bool{}
	for _, s := range host {
		s.Suites = slices.Clone(s.Suites)
		if len(o.Suites) > 0 {
			s.Suites = slices.DeleteFunc(s.Suites, func(x string) bool { return !slices.Contains(o.Suites, x) })
			if len(s.Suites) == 0 {
				continue
			}
		}
		for _, x := range s.Suites {
			found[x] = true
		}
		if len(o.Components) > 0 {
			s.Components = slices.Clone(o.Components)
		}
		if len(o.Architectures) > 0 {
			s.Architectures = slices.Clone(o.Architectures)
		}
		if o.SignedBy != "" {
			s.SignedBy = o.SignedBy
		}
		out = append(out, s)
	}
	for _, x := range o.Suites {
		if !found[x] {
			return nil, fmt.Errorf("suite %q is not in the host's apt sources; give --archive with it", x)
		}
	}
	return out, nil
}
