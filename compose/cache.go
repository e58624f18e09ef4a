package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/deb2fs/deb2fs/compose/configure"
	"github.com/deb2fs/deb2fs/convert"
	"github.com/deb2fs/deb2fs/firstboot"
	"github.com/deb2fs/deb2fs/index"
	"github.com/deb2fs/deb2fs/store"
)

// FormatVersion is the version of what compose makes from a set of
// layers: the base layer, the configure recipe (sandbox, environment,
// normalisation) and the configure layer's encoding. It is part of the
// configure cache key: bump it whenever the same inputs would give other
// bytes. 4: a path several packages ship is left as dpkg leaves it
// (Replaces in either layer order). 5: a preinst runs once its
// Pre-Depends are configured; /run/lock is kept.
const FormatVersion = 5

// cacheRecord is a cached configure layer: the configure run's result
// under its key.
type cacheRecord struct {
	Key string `json:"key"`
	configure.Result
}

// cacheKey hashes every input of the configure layer: compose's and the
// package layers' format versions, the hooks, the architecture, the base
// layer, the package layers in order, and the SOURCE_DATE_EPOCH asked for
// (0: derived from the layers, which the key already covers), and the
// accounts, when there are any.
func cacheKey(arch string, base v1.Hash, es []index.Entry, sde int64, acc configure.Accounts) string {
	h := sha256.New()
	fmt.Fprintf(h, "deb2fs compose %d layer-format %d firstboot %d arch %s base %s sde %d\n",
		FormatVersion, convert.FormatVersion, firstboot.Version, arch, base, sde)
	for _, e := range es {
		fmt.Fprintf(h, "%s %s %s %s\n", e.Package, e.Version, e.Architecture, e.Layer.Digest)
	}
	if !acc.Empty() {
		fmt.Fprintf(h, "accounts\n%s", acc.Key())
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cachePath(st *store.Store, key string) string {
	return filepath.Join(st.Area(store.AreaCompose), key+".json")
}

// lookupCache returns the cached configure layer for key, if it and its
// blob are there.
func lookupCache(st *store.Store, key string) (*cacheRecord, bool) {
	data, err := os.ReadFile(cachePath(st, key))
	if err != nil {
		return nil, false
	}
	var rec cacheRecord
	if json.Unmarshal(data, &rec) != nil || rec.Key != key || !st.Layout().HasBlob(rec.Layer.Digest, rec.Layer.Size) {
		return nil, false
	}
	return &rec, true
}

// putCache records a configure layer whose blob is already stored, with
// what dpkg printed while configuring it (KEY.log beside the record).
func putCache(st *store.Store, rec *cacheRecord, log []byte) error {
	if err := os.MkdirAll(filepath.Dir(cachePath(st, rec.Key)), 0o755); err != nil {
		return err
	}
	if err := st.Layout().WriteFile(strings.TrimSuffix(cachePath(st, rec.Key), ".json")+".log", log); err != nil {
		return err
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return st.Layout().WriteFile(cachePath(st, rec.Key), append(data, '\n'))
}

// dropCache removes a cached configure layer: its record, log and blob.
func dropCache(st *store.Store, rec *cacheRecord) error {
	p := cachePath(st, rec.Key)
	for _, f := range []string{p, strings.TrimSuffix(p, ".json") + ".log", st.Layout().BlobPath(rec.Layer.Digest)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}
