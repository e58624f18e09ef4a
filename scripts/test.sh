#!/bin/sh
# Runs every test of deb2fs, as CI does: installs what the tests need (and
# the unprivileged test user, scripts/test-user.sh), then
# `go vet` and `go test` over the whole module. Real .debs are fetched from
# the archive named by the host's apt sources and cached in
# $DEB2FS_TEST_CACHE (default ~/.cache/deb2fs-test).
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/install-deps.sh
scripts/test-user.sh
go vet ./...
go test -timeout 60m -count=1 ./... "$@"
