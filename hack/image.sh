#!/usr/bin/env bash
# Builds the swarmgate image (swarmgate/swarmgate:<version>, and :latest) from a static binary and
# the machine's CA certificates, with no registry needed.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$ctx/swarmgate" ./cmd/swarmgate
cp /etc/ssl/certs/ca-certificates.crt "$ctx/" 2>/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null
	cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
}
cp Dockerfile "$ctx/"
DOCKER_BUILDKIT=0 /usr/bin/docker build -q -t "swarmgate/swarmgate:$version" -t swarmgate/swarmgate:latest "$ctx" >/dev/null
echo "built swarmgate/swarmgate:$version"
