#!/usr/bin/env bash
# Runs every check and test of swarmgate: formatting, go vet, staticcheck, and `go test` over every
# package, the end-to-end tests included, against a real single-node swarm. Installs what it needs
# first (Go, nginx, keepalived, Docker), brings the swarm up if none runs and takes down again what
# it brought up. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:" >&2
	echo "$unformatted" >&2
	exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
go tool staticcheck ./...

echo "== swarm"
engine_was_up=0
/usr/bin/docker info >/dev/null 2>&1 && engine_was_up=1
hack/swarm.sh up
if [ "$engine_was_up" = 0 ]; then
	trap 'hack/swarm.sh down' EXIT
fi

echo "== go test"
# CI=true makes tests that need a real binary (nginx, keepalived, dockerd) fail instead of skip.
export CI="${CI:-true}"
go test -count=1 "$@" ./...
