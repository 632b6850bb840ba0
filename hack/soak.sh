#!/usr/bin/env bash
# Soaks swarmgate on the 3-node test bed under load, source changes and faults drawn from a seed
# (see hack/soak/main.go for what it injects and checks). Brings the bed up with 3 managers if it
# is not (a bed that is up is promoted in place; either way it is left up); run it alone on the
# bed (by hand: flock -o /tmp/sg-e2e.lock hack/soak.sh ...).
#
#   hack/soak.sh [--minutes N] [--seed S] [--work-dir DIR]
#
# A failing run prints its seed: the same seed replays the same schedule of faults and changes.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/swarmgate" ./cmd/swarmgate
go build -o "$bin/soak" ./hack/soak
hack/bed.sh up --managers 3 --heartbeat 1s
"$bin/soak" --swarmgate "$bin/swarmgate" --bed hack/bed.sh "$@"
