//go:build deb2fs_crash

package mirror

import (
	"context"
	"io"
	"os"
	"syscall"

	"github.com/deb2fs/deb2fs/convert"
)

// Crash injection, compiled only into test binaries of deb2fs (go build
// -tags deb2fs_crash; crashpoints.go has the points, nocrash.go the
// release build's no-ops). crashAt names a point where the process kills
// itself with SIGKILL, read from DEB2FS_MIRROR_CRASH_AT: the crash tests
// kill a real mirror process at points too brief to hit from outside
// (inside a conversion, between writing the index blob and publishing it)
// and check that the store stays consistent and the next run finishes the
// job.
var crashAt = os.Getenv("DEB2FS_MIRROR_CRASH_AT")

// crash kills the process if point is the configured crash point.
func crash(point string) {
	if crashAt == point {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

// crashSinkOf is the sink conversions write to: the store, with a kill in
// the middle of writing a layer at crashConvertWrite.
func crashSinkOf(st convert.Sink) convert.Sink {
	if crashAt == crashConvertWrite {
		return crashSink{st}
	}
	return st
}

// crashSink is the store with a kill in the middle of writing a layer.
type crashSink struct{ convert.Sink }

func (s crashSink) Put(ctx context.Context, key convert.Key, write func(io.Writer) (*convert.Layer, error)) (*convert.Layer, error) {
	return s.Sink.Put(ctx, key, func(w io.Writer) (*convert.Layer, error) {
		return write(&killWriter{w: w})
	})
}

type killWriter struct {
	w io.Writer
	n int
}

func (k *killWriter) Write(p []byte) (int, error) {
	k.n += len(p)
	if k.n > 64 {
		crash(crashConvertWrite)
	}
	return k.w.Write(p)
}
