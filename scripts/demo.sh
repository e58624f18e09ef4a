#!/bin/sh
# Sets up a fresh Debian 12 machine (as root) and runs deb2fs's main job:
# fetch the .debs of nginx and openssh-server with their dependencies from
# the host's apt sources and convert them into package layers in the
# default store, then show one of them with skopeo.
set -eu
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/install-deps.sh
make build
debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
# An empty dpkg status makes apt fetch the whole closure.
: > "$debs/status"
apt-get install -qq -d --no-install-recommends -o Dir::State::status="$debs/status" \
	-o Dir::Cache::archives="$debs" -o Debug::NoLocking=1 nginx openssh-server >/dev/null
./bin/deb2fs convert "$debs"/*.deb
store="${XDG_DATA_HOME:-$HOME/.local/share}/deb2fs/store"
skopeo inspect "oci:$store:$(ls "$debs" | grep '^nginx_' | sed 's/_\([^_]*\)_\([^_]*\)\.deb$/_\1_\2/; s/%3a/_/; s/[+~]/_/g')" | head -20
