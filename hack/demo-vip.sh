#!/usr/bin/env bash
# The second demo, from a fresh machine: the whole blog on a real 3-node swarm (hack/bed.sh: three
# engines in network namespaces on this machine), zones and floating IP included. It applies
# manifests/examples/multinode, shows each virtual host answering through the virtual IP
# 10.99.0.100, then stops the master's gateway and shows the address move to a node whose gateway
# answers, and come back.
#   hack/demo-vip.sh        bring it up and show it (it stays up to play with)
#   hack/demo-vip.sh down   delete what the demo made and take the bed down
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh

docker=/usr/bin/docker
m=manifests/examples/multinode
bed=unix:///run/sgbed/n1/docker.sock # node1, the bed's manager
mkdir -p bin
go build -o bin/swarmgate ./cmd/swarmgate
sg() { DOCKER_HOST=$bed bin/swarmgate "$@"; }

if [ "${1:-}" = down ]; then
	if "$docker" -H "$bed" info >/dev/null 2>&1; then sg delete -f "$m" || true; fi
	hack/bed.sh down
	exit 0
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "a 3-node swarm in network namespaces (node1 manager; nodes 10.99.0.1-3)"
hack/bed.sh up --heartbeat 1s
"$docker" -H "$bed" node ls

step "swarmgate apply -f $m --wait"
sg apply -f "$m" --wait --timeout 2m

# holder names the node whose gateway answers on the virtual IP (empty when none does).
holder() { { curl -s -m 1 -o /dev/null -D - "10.99.0.100:8080/.well-known/swarmgate/health" || true; } | sed -n 's/^X-Swarmgate-Node: *\([^\r]*\).*/\1/ip'; }
# The highest priority, node1, takes the address once its gateway answers.
for _ in $(seq 1 60); do [ "$(holder)" = node1 ] && break; sleep 0.5; done

step "requests through the virtual IP 10.99.0.100:8080"
for host in dmzhttp managerhttp; do
	for i in 1 2 3; do
		printf '  Host: %-12s -> %s\n' "$host" "$(curl -s -m 2 -H "Host: $host" "10.99.0.100:8080/hello/$i" | sed -n 's/.*"service":"\([^"]*\)","task":"\([^"]*\)".*/\1 (task \2)/p')"
	done
done
for svc in dmzhttp managerhttp; do
	printf '  %-12s tasks on: %s\n' "$svc" "$("$docker" -H "$bed" service ps "$svc" --filter desired-state=running --format '{{.Node}}' | sort | tr '\n' ' ')"
done

step "swarmgate get -f $m -o wide"
sg get -f "$m" -o wide

step "stop the gateway on node1, which holds the address; requests every 50 ms through the virtual IP"
id=$("$docker" -H "$bed" ps -q --filter label=com.docker.swarm.service.name=http-gateway | head -1)
"$docker" -H "$bed" stop "$id" >/dev/null &
last="" start=$(date +%s%N)
for _ in $(seq 1 100); do
	h=$(holder)
	if [ "$h" != "$last" ]; then
		printf '  %5d ms: %s\n' $((($(date +%s%N) - start) / 1000000)) "${h:-no answer}"
		last=$h
	fi
	sleep 0.05
done
wait

step "swarmgate get virtualip public -f $m (node1's gateway restarted; the address came back: preempt)"
sg get virtualip public -f "$m" -o wide

echo
echo "The demo stays up: try hack/bed.sh link-down 1, curl 10.99.0.100:8080 -H 'Host: dmzhttp',"
echo "swarmgate get -f $m (with DOCKER_HOST=$bed). hack/demo-vip.sh down removes it."
