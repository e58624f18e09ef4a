package archive

import (
	"crypto/sha256"
	"encoding/hex"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func armorWriter(w io.Writer) (io.WriteCloser, error) {
	return armor.Encode(w, "PGP PUBLIC KEY BLOCK", nil)
}
