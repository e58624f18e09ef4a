//go:build tools

// Package deb2fs pins the modules the design names until code imports them
// all; `go mod tidy` keeps what this file imports.
package deb2fs

import (
	_ "github.com/ProtonMail/go-crypto/openpgp"
	_ "github.com/blakesmith/ar"
	_ "github.com/google/go-containerregistry/pkg/v1/layout"
	_ "github.com/google/go-containerregistry/pkg/v1/remote"
	_ "github.com/google/go-containerregistry/pkg/registry"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/spf13/cobra"
	_ "github.com/ulikunitz/xz"
	_ "github.com/vbauerster/mpb/v8"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/term"
	_ "pault.ag/go/debian/control"
	_ "pault.ag/go/debian/dependency"
	_ "pault.ag/go/debian/version"
)
