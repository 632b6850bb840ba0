#!/usr/bin/env bash
# The main job, from a fresh machine: builds swarmgate and runs it on the seed scenario (the blog's
# hand-made gateway, virtual hosts, zones and virtual IP, declared in manifests/examples/seed).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh

mkdir -p bin
go build -o bin/swarmgate ./cmd/swarmgate
seed=manifests/examples/seed

echo "== swarmgate validate -f $seed"
bin/swarmgate validate -f "$seed"

echo
echo "== swarmgate render -f $seed (the nginx config of the gateway, the keepalived config of each node)"
bin/swarmgate render -f "$seed" \
	--node-address node1=10.99.0.1 --node-address node2=10.99.0.2 --node-address node3=10.99.0.3
