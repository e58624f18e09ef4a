package archive

import (
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

func armorWriter(w io.Writer) (io.WriteCloser, error) {
	return armor.Encode(w, "PGP PUBLIC KEY BLOCK", nil)
}
