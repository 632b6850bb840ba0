#!/usr/bin/env bash
# Prints swarmgate's benchmark figures: the nginx renderer (go test -bench), the engine (swarmgate
# apply against `docker stack deploy` on the local swarm, which it brings up), and the operator's
# latencies (drift to alert, commit to applied and to served), the gateway's throughput against a
# hand-tuned nginx and caddy (hack/bench-proxies.sh) and the virtual IP's failover times, measured
# by its end-to-end tests.
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

echo
echo "== operator latencies (swarmgate run)"
go test ./cmd/swarmgate/e2e -count=1 -v -run 'TestRunGitOps|TestRunDrift|TestRunCommitToServed|TestHitless' | grep -o 'figure: .*'

echo
echo "== data plane: the gateway against a hand-tuned nginx and caddy (wrk -t2 -c32 -d10s, same backend)"
hack/bench-proxies.sh

echo
echo "== gateway agent: nginx -t and graceful reload, nginx memory (PSS)"
go test ./reconciler/agent/gateway -run '^$' -bench Reload -benchtime 3x | grep -E '^Benchmark'

echo
echo "== virtual IP failover on the 3-node bed (hack/bed.sh), 100 req/s through the address"
hack/bed.sh up --heartbeat 1s
go test ./cmd/swarmgate/e2e -count=1 -v -run 'TestMultiNode' | grep -o 'figure: .*'
