package archive

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/deb2fs/deb2fs/aptsources"
)

// verifySignatures checks every signature packet in sigs (binary, not
// armored) over signed against kr, and returns the keys whose signature
// verified. The Release is accepted if any does: the Debian archive signs
// with several keys (RSA and EdDSA), of which a keyring may hold only some.
// reasons says, per signature, why it did not count.
func verifySignatures(kr *aptsources.Keyring, signed, sigs []byte, now time.Time) (good []Signer, reasons []string) {
	cfg := &packet.Config{Time: func() time.Time { return now }}
	pr := packet.NewReader(bytes.NewReader(sigs))
	seen := map[uint64]bool{}
	for {
		p, err := pr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var unsup pgperrors.UnsupportedError
			if errors.As(err, &unsup) {
				reasons = append(reasons, fmt.Sprintf("unsupported signature packet: %v", err))
				continue
			}
			reasons = append(reasons, fmt.Sprintf("unreadable signature: %v", err))
			break
		}
		sig, ok := p.(*packet.Signature)
		if !ok {
			reasons = append(reasons, fmt.Sprintf("unexpected %T packet in signature", p))
			continue
		}
		if sig.IssuerKeyId == nil {
			reasons = append(reasons, "signature without issuer")
			continue
		}
		id := *sig.IssuerKeyId
		if seen[id] {
			continue
		}
		seen[id] = true
		kid := fmt.Sprintf("%016X", id)
		if len(kr.Keys.KeysByIdUsage(id, packet.KeyFlagSign)) == 0 {
			reasons = append(reasons, fmt.Sprintf("signature by key %s: key not in keyring", kid))
			continue
		}
		// go-crypto verifies the first signature whose issuer the keyring
		// holds; a keyring reduced to this issuer makes it verify this one.
		_, ent, err := openpgp.VerifyDetachedSignature(onlyIssuer{kr.Keys, id}, bytes.NewReader(signed), bytes.NewReader(sigs), cfg)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("signature by key %s: %v", kid, err))
			continue
		}
		s := Signer{Fingerprint: strings.ToUpper(hex.EncodeToString(ent.PrimaryKey.Fingerprint)), KeyID: kid}
		if pi := ent.PrimaryIdentity(); pi != nil {
			s.Identity = pi.Name
		}
		good = append(good, s)
	}
	if len(good) == 0 && len(reasons) == 0 {
		reasons = append(reasons, "no signature found")
	}
	return good, reasons
}

// onlyIssuer is a keyring that holds only the keys of one issuer.
type onlyIssuer struct {
	openpgp.EntityList
	id uint64
}

func (o onlyIssuer) KeysById(id uint64) []openpgp.Key {
	if id != o.id {
		return nil
	}
	return o.EntityList.KeysById(id)
}

func (o onlyIssuer) KeysByIdUsage(id uint64, usage byte) []openpgp.Key {
	if id != o.id {
		return nil
	}
	return o.EntityList.KeysByIdUsage(id, usage)
}
