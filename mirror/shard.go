package mirror

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Shard is one of N parts of a run's conversions: `--shard I/N`, I in
// [0, N). The zero Shard is the whole run.
//
// A sharded run downloads and converts only the packages whose .deb SHA256,
// read as a number, is I modulo N — a split every shard computes alike
// from the same archive state, with no coordination — and publishes
// nothing. Shards of one run may work on one store at once (they share the
// run lock and write disjoint layers). When all are done, one unsharded run
// publishes the index: it finds every layer already in the store and
// converts whatever a failed shard left.
type Shard struct {
	I, N int
}

// ParseShard parses "I/N".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 0 <= I < N", s)
	}
	return Shard{I: i, N: n}, nil
}

// String is "I/N", or "" for the whole run.
func (s Shard) String() string {
	if s.N == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// owns reports whether the package with this .deb SHA256 is the shard's.
func (s Shard) owns(debSHA256 string) bool {
	if s.N <= 1 {
		return true
	}
	b, err := hex.DecodeString(debSHA256[:min(16, len(debSHA256))])
	if err != nil || len(b) == 0 {
		return s.I == 0
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v%uint64(s.N) == uint64(s.I)
}
