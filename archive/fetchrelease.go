package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/deb2fs/deb2fs/aptsources"
)

// maxReleaseSize bounds an InRelease, Release or Release.gpg download.
const maxReleaseSize = 64 << 20

// Release fetches dists/DIST/InRelease of src (falling back to Release and
// Release.gpg when there is no InRelease), verifies its signature against
// the keyring src names, and parses it. It refuses (with an error matching
// [ErrVerification]) a Release no key of the keyring signed, one whose
// Valid-Until has passed (unless src.NoValidUntil), and one whose Suite and
// Codename both differ from dist (a Release replayed from another suite).
func (c *Client) Release(ctx context.Context, src aptsources.Source, dist string) (*Release, error) {
	kr, err := c.keyring(src.SignedBy)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", src.URI, dist, err)
	}
	base := src.URI + "/dists/" + dist + "/"
	now := c.now()

	var text []byte
	var url string
	var signers []Signer
	url = base + "InRelease"
	data, err := c.fetchBytes(ctx, url, maxReleaseSize)
	switch {
	case err == nil:
		block, _ := clearsign.Decode(data)
		if block == nil {
			return nil, verifyErrorf("%s: not a clearsigned message", url)
		}
		sig, err := io.ReadAll(block.ArmoredSignature.Body)
		if err != nil {
			return nil, &SignatureError{URL: url, Keyring: kr.Desc, Reasons: []string{fmt.Sprintf("unreadable signature block: %v", err)}}
		}
		good, reasons := verifySignatures(kr, block.Bytes, sig, now)
		if len(good) == 0 {
			return nil, &SignatureError{URL: url, Keyring: kr.Desc, Reasons: reasons}
		}
		text, signers = block.Plaintext, good
	case errors.Is(err, ErrNotFound):
		url = base + "Release"
		if text, err = c.fetchBytes(ctx, url, maxReleaseSize); err != nil {
			return nil, err
		}
		gpgURL := base + "Release.gpg"
		armored, err := c.fetchBytes(ctx, gpgURL, maxReleaseSize)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, &SignatureError{URL: gpgURL, Keyring: kr.Desc, Reasons: []string{"no InRelease and no Release.gpg: the suite is unsigned"}}
			}
			return nil, err
		}
		sig, err := dearmor(armored)
		if err != nil {
			return nil, &SignatureError{URL: gpgURL, Keyring: kr.Desc, Reasons: []string{err.Error()}}
		}
		good, reasons := verifySignatures(kr, text, sig, now)
		if len(good) == 0 {
			return nil, &SignatureError{URL: gpgURL, Keyring: kr.Desc, Reasons: reasons}
		}
		signers = good
	default:
		return nil, err
	}

	rel, err := ParseRelease(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	rel.URI, rel.Dist, rel.URL, rel.Signers, rel.Verified = src.URI, dist, url, signers, now
	if rel.Suite != dist && rel.Codename != dist {
		return nil, verifyErrorf("%s: Release is for Suite %q, Codename %q, not %q", url, rel.Suite, rel.Codename, dist)
	}
	if !src.NoValidUntil && !rel.ValidUntil.IsZero() && now.After(rel.ValidUntil) {
		return nil, &ExpiredError{URL: url, ValidUntil: rel.ValidUntil, Now: now}
	}
	return rel, nil
}

// dearmor returns the binary packets of an armored signature, or the input
// if it is already binary.
func dearmor(b []byte) ([]byte, error) {
	if !bytes.Contains(b[:min(len(b), 256)], []byte("-----BEGIN PGP")) {
		return b, nil
	}
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("unreadable signature: %w", err)
	}
	return io.ReadAll(blk.Body)
}
