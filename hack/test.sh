#!/usr/bin/env bash
# Runs every check and test of swarmgate: formatting, go vet, staticcheck, and `go test` over every
# package, the end-to-end tests included, against a real single-node swarm and the 3-node test bed
# (hack/bed.sh), then a 3-minute soak on the bed (hack/soak.sh). Installs what it needs first (Go,
# nginx, keepalived, Docker), brings the swarm and the bed up if they are not and takes down again
# what it brought up. Exits non-zero on any failure.
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
bed_was_up=0
/usr/bin/docker -H unix:///run/sgbed/n1/docker.sock info >/dev/null 2>&1 && bed_was_up=1
teardown() {
	if [ "$bed_was_up" = 0 ]; then hack/bed.sh down || true; fi
	if [ "$engine_was_up" = 0 ]; then hack/swarm.sh down; fi
}
trap teardown EXIT
hack/swarm.sh up

echo "== multi-node test bed (3 engines in network namespaces)"
hack/bed.sh up --managers 3 --heartbeat 1s

echo "== go test"
# CI=true makes tests that need a real binary (nginx, keepalived, dockerd) fail instead of skip.
export CI="${CI:-true}"
# The end-to-end package runs for about 10 minutes on 2 cores; go test's default limit is 10.
go test -count=1 -timeout 25m "$@" ./...

echo "== soak (3 minutes of faults on the bed, a fixed seed)"
hack/soak.sh --minutes 3 --seed 28
