#!/usr/bin/env bash
# The main job, from a fresh machine: brings up a local single-node swarm, builds swarmgate and the
# test images, applies the blog's scenario (manifests/examples/demo: an nginx gateway on port 8080
# in front of dmzhttp and managerhttp, dmzhttp placed in zone dmz) and shows requests for each
# virtual host answered by its own service, round robin across its replicas.
#   hack/demo.sh        bring it up and show it answering (it stays up to play with)
#   hack/demo.sh down   delete what the demo made and stop the swarm it started
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh

docker=/usr/bin/docker
mkdir -p bin
go build -o bin/swarmgate ./cmd/swarmgate
demo=manifests/examples/demo

# The zone holds this machine's node, whose name only the swarm knows.
zone_manifest() {
	local zone=bin/demo-zone.yaml
	printf 'apiVersion: swarmgate.io/v1alpha1\nkind: Zone\nmetadata: {name: dmz}\nspec:\n  nodes: [%s]\n' \
		"$("$docker" node inspect self --format '{{.Description.Hostname}}')" >"$zone"
	echo "$zone"
}

if [ "${1:-}" = down ]; then
	if "$docker" info >/dev/null 2>&1; then
		bin/swarmgate delete -f "$demo" -f "$(zone_manifest)"
	fi
	hack/swarm.sh down
	exit 0
fi

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "local swarm"
hack/swarm.sh up
zone=$(zone_manifest)

step "swarmgate validate -f manifests/examples/seed (the blog's setup, with its VRRP mistakes fixed)"
bin/swarmgate validate -f manifests/examples/seed

step "swarmgate diff -f $demo -f $zone"
bin/swarmgate diff -f "$demo" -f "$zone" || true

step "swarmgate apply -f $demo -f $zone --wait"
bin/swarmgate apply -f "$demo" -f "$zone" --wait --timeout 2m

step "requests through the gateway on 127.0.0.1:8080"
answer() {
	curl -s -m 5 -H "Host: $1" "127.0.0.1:8080$2" | sed -n 's/.*"service":"\([^"]*\)","task":"\([^"]*\)".*/\1 (task \2)/p'
}
for _ in $(seq 1 30); do
	[ -n "$(answer dmzhttp /)" ] && break
	sleep 1
done
for host in dmzhttp managerhttp; do
	for i in 1 2 3 4 5 6; do
		printf '  Host: %-12s GET /hello/%s -> %s\n' "$host" "$i" "$(answer "$host" "/hello/$i")"
	done
done
printf '  Host: %-12s GET /         -> HTTP %s\n' nobody "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: nobody' 127.0.0.1:8080/)"

step "swarmgate get -f $demo -f $zone -o wide"
bin/swarmgate get -f "$demo" -f "$zone" -o wide

step "a second apply changes nothing"
bin/swarmgate apply -f "$demo" -f "$zone"

echo
echo "The demo stays up: try curl -H 'Host: dmzhttp' 127.0.0.1:8080/, docker service scale managerhttp=5"
echo "then swarmgate diff/apply. hack/demo.sh down removes it."
