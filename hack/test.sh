#!/usr/bin/env bash
# Runs every check and test of swarmgate: formatting, go vet, staticcheck, the generated JSON Schema,
# and `go test` over every package. Installs what it needs first. Exits non-zero on any failure.
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

echo "== go test"
# CI=true makes tests that need a real binary (nginx, keepalived, dockerd) fail instead of skip.
export CI="${CI:-true}"
go test -count=1 "$@" ./...
