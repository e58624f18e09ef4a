#!/bin/bash
# Sets up a fresh Debian 12 machine (as root) and runs deb2fs's main job:
#   1. install what deb2fs needs (scripts/install-deps.sh) and build it;
#   2. deb2fs mirror: the closure of nginx and openssh-server from the
#      archive named by the host's apt sources, verified, into the default
#      store (an OCI image layout in ~/.local/share/deb2fs/store);
#   3. deb2fs compose nginx openssh-server: an image of shared package
#      layers plus one configure layer, tagged in that store;
#   4. run it with podman (runc): nginx answers HTTP, sshd answers
#      ssh-keyscan with host keys made at the container's first start.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
scripts/install-deps.sh
make build
deb2fs=./bin/deb2fs

$deb2fs mirror --packages "nginx openssh-server"
$deb2fs compose nginx openssh-server
$deb2fs inspect compose-nginx-openssh-server | sed -n '1,8p'

store="${XDG_DATA_HOME:-$HOME/.local/share}/deb2fs/store"
podman=(podman --runtime runc)
# podman derives an image name from an oci: path, which fails on paths with
# a dot-directory (~/.local); skopeo copies it under an explicit name.
image=localhost/deb2fs-demo:nginx-openssh-server
skopeo copy -q "oci:$store:compose-nginx-openssh-server" "containers-storage:$image"
http=$((20000 + RANDOM % 10000))
ssh=$((http + 1))
ctr=$("${podman[@]}" run -d --runtime runc --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
	-p "127.0.0.1:$http:80" -p "127.0.0.1:$ssh:22" "$image" \
	sh -c 'mkdir -p /run/sshd && /usr/sbin/sshd -e && exec /usr/sbin/nginx -g "daemon off;"')
trap '"${podman[@]}" rm -f "$ctr" >/dev/null' EXIT
for _ in $(seq 50); do
	curl -fs -o /dev/null "http://127.0.0.1:$http/" && break
	sleep 0.2
done
echo "nginx:  HTTP $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/")"
echo "sshd:   $(ssh-keyscan -p "$ssh" -t ed25519 127.0.0.1 2>/dev/null | cut -d' ' -f2-3)"
echo "in the container: $("${podman[@]}" exec "$ctr" sh -c 'dpkg-query -W -f "\${db:Status-Abbrev}\n" | grep -c "^ii"') packages ii"
