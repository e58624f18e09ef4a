//go:build !deb2fs_crash

package mirror

import "github.com/deb2fs/deb2fs/convert"

// The release build has no crash injection (crash.go): crash does nothing
// and conversions write to the store itself.

func crash(string) {}

func crashSinkOf(st convert.Sink) convert.Sink { return st }
