package archive

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Release is a suite's verified Release file (from InRelease, or Release +
// Release.gpg) and where it came from.
type Release struct {
	// URI is the archive base the Release was fetched from.
	URI string
	// Dist is the name under dists/ it was fetched as (bookworm-security).
	Dist string
	// URL is the InRelease or Release it was read from.
	URL string

	Origin   string
	Label    string
	Suite    string // moves (stable → oldstable): do not key on it
	Codename string // stable for the life of a release: key on it
	Version  string
	Date     time.Time
	// ValidUntil is zero when the Release has no Valid-Until.
	ValidUntil    time.Time
	Architectures []string
	Components    []string
	AcquireByHash bool
	// NoSupportForArchitectureAll is the field of that name; "Packages"
	// means Architecture: all packages are listed in every binary-ARCH index.
	NoSupportForArchitectureAll string
	// Files is the SHA256 list, by path relative to dists/DIST/.
	Files map[string]FileHash

	// Signers are the keys whose signatures verified, the first being the
	// signer to record for provenance.
	Signers []Signer
	// Verified is the client's clock when the signature was checked.
	Verified time.Time
}

// FileHash is a file's entry in a Release's SHA256 list.
type FileHash struct {
	Size   int64
	SHA256 string // lower-case hex
}

// Signer is a key that signed a Release.
type Signer struct {
	// Fingerprint is the upper-case hex fingerprint of the primary key.
	Fingerprint string
	// KeyID is the upper-case hex id of the (sub)key that made the signature.
	KeyID string
	// Identity is the key's primary user id.
	Identity string
}

// Key returns the string a mirror keys this suite on: the archive URI and
// the Codename ("URI codename"); if the Release has no Codename, its Dist.
func (r *Release) Key() string {
	c := r.Codename
	if c == "" {
		c = r.Dist
	}
	return r.URI + " " + c
}

// Signer returns the key to record as the Release's signer.
func (r *Release) Signer() Signer {
	if len(r.Signers) == 0 {
		return Signer{}
	}
	return r.Signers[0]
}

// dateLayouts are the forms apt accepts for Date and Valid-Until.
var dateLayouts = []string{
	time.RFC1123,                    // Sat, 11 Jul 2026 10:16:37 UTC
	time.RFC1123Z,                   // Sat, 11 Jul 2026 10:16:37 +0000
	"Mon, _2 Jan 2006 15:04:05 MST", // single-digit day
	"Mon, _2 Jan 2006 15:04:05 -0700",
}

func parseDate(s string) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bad date %q", s)
}

// ParseRelease parses the text of a Release file. It does not verify
// anything: give it only text whose signature has been checked. The
// returned Release has no URI, Dist, URL or Signers.
func ParseRelease(data []byte) (*Release, error) {
	r := &Release{Files: map[string]FileHash{}}
	sc := newStanzaScanner(bytes.NewReader(data))
	var lk [64]byte
	cur := ""
	stanzas := 0
	for {
		kind, key, val := sc.next()
		switch kind {
		case lineField:
			cur = string(lowerKey(&lk, key))
			v := string(val)
			var err error
			switch cur {
			case "origin":
				r.Origin = v
			case "label":
				r.Label = v
			case "suite":
				r.Suite = v
			case "codename":
				r.Codename = v
			case "version":
				r.Version = v
			case "date":
				r.Date, err = parseDate(v)
			case "valid-until":
				r.ValidUntil, err = parseDate(v)
			case "architectures":
				r.Architectures = strings.Fields(v)
			case "components":
				r.Components = strings.Fields(v)
			case "acquire-by-hash":
				r.AcquireByHash = yes(v)
			case "no-support-for-architecture-all":
				r.NoSupportForArchitectureAll = v
			case "sha256":
				if v != "" {
					err = fmt.Errorf("SHA256 field has a value on its first line")
				}
			}
			if err != nil {
				return nil, fmt.Errorf("Release line %d: %s: %w", sc.line, key, err)
			}
		case lineCont:
			if cur != "sha256" {
				continue
			}
			f := strings.Fields(string(val))
			if len(f) != 3 || !isHex(strings.ToLower(f[0]), 64) {
				return nil, fmt.Errorf("Release line %d: bad SHA256 entry %q", sc.line, val)
			}
			n, ok := atoi([]byte(f[1]))
			if !ok {
				return nil, fmt.Errorf("Release line %d: bad size in SHA256 entry %q", sc.line, val)
			}
			r.Files[f[2]] = FileHash{Size: n, SHA256: strings.ToLower(f[0])}
		case lineEnd:
			stanzas++
		case lineEOF:
			if sc.err != nil {
				return nil, fmt.Errorf("Release: %w", sc.err)
			}
			if stanzas != 1 {
				return nil, fmt.Errorf("Release: %d paragraphs, want 1", stanzas)
			}
			return r, nil
		}
	}
}

// yes reports whether v is one of apt's true values (as aptsources reads
// them in sources).
func yes(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "true", "with", "on", "enable":
		return true
	}
	return false
}
