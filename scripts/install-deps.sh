#!/bin/sh
# Installs the Debian packages deb2fs, its tests and its benchmarks need, on
# Debian 12 as root. Idempotent: when everything is present it only checks.
# Go itself (>= 1.26, /usr/local/go) is expected on the machine.
set -eu

PACKAGES="
ca-certificates curl git make gcc bc
dpkg-dev xz-utils zstd gzip bzip2 tar
podman runc uidmap slirp4netns fuse-overlayfs
skopeo umoci docker-registry docker.io
mmdebstrap
openssh-client
"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	echo "install-deps: Go is in /usr/local/go/bin: add it to PATH" >&2
fi
if ! command -v go >/dev/null 2>&1 && ! [ -x /usr/local/go/bin/go ]; then
	echo "install-deps: Go >= 1.26 is required (expected in /usr/local/go)" >&2
	exit 1
fi
