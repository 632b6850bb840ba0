#!/usr/bin/env bash
# Runs every check and test of swarmgate: formatting, go vet, staticcheck, and `go test` over every
# package, the end-to-end tests included, against a real single-node swarm and the 3-node test bed
# (hack/bed.sh), and a 3-minute soak on the bed (hack/soak.sh), which runs after the bed's tests
# and beside the others. Installs what it needs first (Go,
# nginx, keepalived, Docker), brings the swarm and the bed up if they are not and takes down again
# what it brought up. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh

# The engine and the bed come up (mostly waiting on dockerd) while the static checks run.
engine_was_up=0
/usr/bin/docker info >/dev/null 2>&1 && engine_was_up=1
bed_was_up=0
/usr/bin/docker -H unix:///run/sgbed/n1/docker.sock info >/dev/null 2>&1 && bed_was_up=1
logs=$(mktemp -d)
teardown() {
	rm -rf "$logs"
	if [ "$bed_was_up" = 0 ]; then hack/bed.sh down || true; fi
	if [ "$engine_was_up" = 0 ]; then hack/swarm.sh down; fi
}
trap teardown EXIT
(hack/swarm.sh up && hack/bed.sh up --managers 3 --heartbeat 1s) >"$logs/up" 2>&1 &
up=$!

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

echo "== swarm, and the multi-node test bed (3 engines in network namespaces)"
up_status=0
wait "$up" || up_status=$?
cat "$logs/up"
[ "$up_status" = 0 ] || exit "$up_status"

# CI=true makes tests that need a real binary (nginx, keepalived, dockerd) fail instead of skip.
export CI="${CI:-true}"
# The bed's tests (named TestMultiNode*) and then the soak use the bed only: they run beside the
# other tests, which use the single-node swarm, and print when they are done.
(
	go test -count=1 -timeout 15m -run '^TestMultiNode' ./cmd/swarmgate/e2e &&
		echo "== soak (3 minutes of faults on the bed, a fixed seed)" &&
		hack/soak.sh --minutes 3 --seed 28
) >"$logs/bed" 2>&1 &
bed=$!

echo "== go test"
# The end-to-end package runs for about 10 minutes on 2 cores; go test's default limit is 10.
test_status=0
go test -count=1 -timeout 25m -skip '^TestMultiNode' "$@" ./... || test_status=$?

echo "== the bed's tests, and the soak"
bed_status=0
wait "$bed" || bed_status=$?
cat "$logs/bed"
[ "$test_status" = 0 ] && [ "$bed_status" = 0 ]
