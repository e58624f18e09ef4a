package aptsources

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// Keyring is the set of keys a source's Signed-By trusts, and the name
// to give it in messages.
type Keyring struct {
	Keys openpgp.EntityList
	Desc string
}

const armorKeyBlock = "-----BEGIN PGP PUBLIC KEY BLOCK-----"

// LoadKeyring resolves a Signed-By value as apt does: an inline armored
// key block; or keyring files (absolute paths) and/or fingerprints,
// separated by commas or spaces. Fingerprints select keys from the given
// files or, without files, from the default keyring and trustedDir/*.
// An empty value is the default keyring.
func LoadKeyring(signedBy, defaultKeyring, trustedDir string) (*Keyring, error) {
	signedBy = strings.TrimSpace(signedBy)
	if strings.HasPrefix(signedBy, armorKeyBlock) {
		keys, err := readKeys([]byte(signedBy))
		if err != nil {
			return nil, fmt.Errorf("inline Signed-By key: %w", err)
		}
		return &Keyring{keys, "the inline Signed-By key"}, nil
	}
	if signedBy == "" {
		signedBy = defaultKeyring
	}
	var files, fprs []string
	for _, tok := range strings.FieldsFunc(signedBy, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		f := strings.TrimSuffix(strings.ToUpper(tok), "!")
		if _, err := hex.DecodeString(f); err == nil && (len(f) == 40 || len(f) == 64) {
			fprs = append(fprs, f)
			continue
		}
		files = append(files, tok)
	}
	desc := strings.Join(files, ", ")
	if len(files) == 0 {
		files = append(files, defaultKeyring)
		if m, _ := filepath.Glob(filepath.Join(trustedDir, "*.gpg")); len(m) > 0 {
			files = append(files, m...)
		}
		if m, _ := filepath.Glob(filepath.Join(trustedDir, "*.asc")); len(m) > 0 {
			files = append(files, m...)
		}
		sort.Strings(files[1:])
		desc = fmt.Sprintf("%s and %s/*", defaultKeyring, trustedDir)
	}
	var all openpgp.EntityList
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("keyring: %w", err)
		}
		keys, err := readKeys(data)
		if err != nil {
			return nil, fmt.Errorf("keyring %s: %w", f, err)
		}
		all = append(all, keys...)
	}
	if len(fprs) > 0 {
		var sel openpgp.EntityList
		for _, e := range all {
			if hasFingerprint(e, fprs) {
				sel = append(sel, e)
			}
		}
		desc = fmt.Sprintf("keys %s of %s", strings.Join(fprs, ", "), desc)
		if len(sel) == 0 {
			return nil, fmt.Errorf("keyring: no key with fingerprint %s in %s", strings.Join(fprs, ", "), desc)
		}
		all = sel
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("keyring %s: no usable key", desc)
	}
	return &Keyring{all, desc}, nil
}

func hasFingerprint(e *openpgp.Entity, fprs []string) bool {
	match := func(fp []byte) bool {
		h := strings.ToUpper(hex.EncodeToString(fp))
		for _, f := range fprs {
			if f == h {
				return true
			}
		}
		return false
	}
	if match(e.PrimaryKey.Fingerprint) {
		return true
	}
	for _, s := range e.Subkeys {
		if match(s.PublicKey.Fingerprint) {
			return true
		}
	}
	return false
}

// readKeys reads binary OpenPGP keys, or one or more armored key blocks.
func readKeys(data []byte) (openpgp.EntityList, error) {
	if !bytes.Contains(data[:min(len(data), 1024)], []byte("-----BEGIN PGP")) {
		return openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	var all openpgp.EntityList
	r := bytes.NewReader(data)
	for {
		b, err := armor.Decode(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		keys, err := openpgp.ReadKeyRing(b.Body)
		if err != nil {
			return nil, err
		}
		all = append(all, keys...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no armored key block")
	}
	return all, nil
}
