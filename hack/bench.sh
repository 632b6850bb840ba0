#!/usr/bin/env bash
# Prints swarmgate's benchmark figures: the nginx renderer (go test -bench) and the engine
# (swarmgate apply against `docker stack deploy` on the local swarm, which it brings up).
#   hack/bench.sh [-n 10,100,1000]
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh

echo "== nginx renderer"
go test ./reconciler/render/nginx -run '^$' -bench BenchmarkRender -benchtime 2s | grep -E '^Benchmark'

echo
echo "== engine: swarmgate apply and docker stack deploy (replicas: 0 services)"
hack/swarm.sh up
go run ./hack/bench-engine "$@"
