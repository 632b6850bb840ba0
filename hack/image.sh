#!/usr/bin/env bash
# Builds the swarmgate image (swarmgate/swarmgate:<version>, and :latest) from a static binary and
# the machine's CA certificates, with no registry needed, and the gateway image
# (swarmgate/gateway:<version>, and :latest) from the task binary (cmd/swarmgate-task: the agents'
# commands only) on an nginx image.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
ctx=$(mktemp -d)
gctx=$(mktemp -d) # the gateway image's own context: its swarmgate is the task binary
trap 'rm -rf "$ctx" "$gctx"' EXIT
ldflags="-s -w -X github.com/swarmgate/swarmgate/cmd/internal/cli.version=$version"
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$ctx/swarmgate" ./cmd/swarmgate
CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$gctx/swarmgate" ./cmd/swarmgate-task
cp /etc/ssl/certs/ca-certificates.crt "$ctx/" 2>/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
	cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
}
cp Dockerfile "$ctx/"
DOCKER_BUILDKIT=0 /usr/bin/docker build -q -t "swarmgate/swarmgate:$version" -t swarmgate/swarmgate:latest "$ctx" >/dev/null
echo "built swarmgate/swarmgate:$version"
# The gateway image: the task binary on an nginx image (NGINX_IMAGE; nginx:stable by default,
# pulled unless present; hack/images.sh's swarmgate/nginx:test needs no registry).
nginx=${NGINX_IMAGE:-nginx:stable}
cp Dockerfile.gateway "$gctx/Dockerfile"
if ! DOCKER_BUILDKIT=0 /usr/bin/docker build -q --build-arg "NGINX=$nginx" -t "swarmgate/gateway:$version" -t swarmgate/gateway:latest "$gctx" >/dev/null; then
	echo "the gateway image needs $nginx; without a registry: hack/images.sh, then NGINX_IMAGE=swarmgate/nginx:test make image" >&2
	exit 1
fi
echo "built swarmgate/gateway:$version"
