#!/usr/bin/env bash
# Compares the gateway's data plane with its peers on one backend: the swarmgate gateway with agents
# (its production mode, pooled upstreams), the same gateway applied without agents (the CLI-only
# mode: names resolved per request), the same nginx image with a hand-tuned config (an `upstream`
# block, `keepalive 64`) and Debian's caddy (`reverse_proxy`, its default pooling). All four run as
# swarm services on one overlay network in front of the same 2-task echo backend (dnsrr), published
# in host mode; `wrk -t2 -c32 -d10s` measures each in turn, two rounds interleaved, and the script
# prints req/s, p50, p99 and their ratios to the hand-tuned nginx.
#   hack/bench-proxies.sh
# Needs the local swarm and the test images (hack/images.sh); installs caddy and wrk with apt-get
# when missing. Run it alone on the swarm (the e2e lock): the figures are throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh
unset DOCKER_HOST # the local engine
docker=/usr/bin/docker

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[ -x /usr/bin/caddy ] || missing+=(caddy)
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -q "${missing[@]}" >/dev/null
fi

instance=bench-proxies
net=bench_proxies
work=$(mktemp -d)
operator_pid=
cleanup() {
	[ -n "$operator_pid" ] && kill "$operator_pid" 2>/dev/null && wait "$operator_pid" 2>/dev/null
	"$work/swarmgate" delete -f "$work/manifests" --instance "$instance" >/dev/null 2>&1 || true
	"$docker" service rm bench-nginx bench-caddy >/dev/null 2>&1 || true
	sleep 2
	"$docker" config rm bench-nginx-conf bench-caddyfile >/dev/null 2>&1 || true
	"$docker" secret rm bench-agent-token >/dev/null 2>&1 || true
	"$docker" network rm "$net" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/swarmgate" ./cmd/swarmgate
echo "b3nch-t0ken" >"$work/token"
"$docker" secret create bench-agent-token "$work/token" >/dev/null
"$docker" network create -d overlay --attachable "$net" >/dev/null
bridge=$("$docker" network inspect docker_gwbridge -f '{{(index .IPAM.Config 0).Gateway}}')

mkdir "$work/manifests"
cat >"$work/manifests/bench.yaml" <<EOF
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: bench-agents}
spec:
  image: swarmgate/gateway:test
  listeners: [{name: http, port: 18171, publishMode: Host}]
  network: {name: $net}
  agent: {operatorURL: "http://$bridge:19171", tokenSecret: bench-agent-token}
---
apiVersion: swarmgate.io/v1alpha1
kind: Gateway
metadata: {name: bench-cli}
spec:
  image: swarmgate/nginx:test
  listeners: [{name: http, port: 18172, publishMode: Host}]
  network: {name: $net}
---
apiVersion: swarmgate.io/v1alpha1
kind: Route
metadata: {name: bench}
spec:
  parentRefs: [{name: bench-agents}, {name: bench-cli}]
  rules: [{backendRefs: [{name: bench-echo, port: 8888}]}]
  services: [{name: bench-echo, image: swarmgate/echo:test, port: 8888, replicas: 2, endpointMode: dnsrr, env: [{name: SERVICE, value: bench-echo}]}]
EOF
"$work/swarmgate" run --source "dir:$work/manifests" --instance "$instance" --resync 1h \
	--agent-token-file "$work/token" --listen "0.0.0.0:19171" >"$work/operator.log" 2>&1 &
operator_pid=$!

# The hand-tuned nginx: the same image and nginx.conf as the gateway, a pool of the backend's
# tasks (resolved once, at start), keep-alive connections to them.
"$docker" config create bench-nginx-conf - >/dev/null <<'EOF'
upstream echo {
    server bench-echo:8888;
    keepalive 64;
}
server {
    listen 18173;
    location / {
        proxy_pass http://echo;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
EOF
# Debian's caddy, run in the nginx image (for its libc, /tmp and users) with the libraries it links.
"$docker" config create bench-caddyfile - >/dev/null <<'EOF'
{
	admin off
	auto_https off
}
:18174 {
	reverse_proxy bench-echo:8888
}
EOF

served() { [ "$(curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$1/")" = 200 ]; }
wait_for() {
	for _ in $(seq 180); do
		served "$1" && return 0
		sleep 1
	done
	echo "port $1 does not serve; operator log:" >&2
	tail -20 "$work/operator.log" >&2
	exit 1
}
wait_for 18171
wait_for 18172
"$docker" service create -q --no-resolve-image --name bench-nginx --network "$net" --publish mode=host,target=18173,published=18173 \
	--config source=bench-nginx-conf,target=/etc/nginx/conf.d/default.conf swarmgate/nginx:test >/dev/null
caddy_mounts=(--mount type=bind,source=/usr/bin/caddy,target=/usr/bin/caddy,readonly)
for lib in $(ldd /usr/bin/caddy | grep -o '/[^ ]*'); do
	caddy_mounts+=(--mount "type=bind,source=$(readlink -f "$lib"),target=$lib,readonly")
done
"$docker" service create -q --no-resolve-image --name bench-caddy --network "$net" --publish mode=host,target=18174,published=18174 \
	"${caddy_mounts[@]}" --env HOME=/tmp --env XDG_DATA_HOME=/tmp --env XDG_CONFIG_HOME=/tmp \
	--config source=bench-caddyfile,target=/etc/caddy/Caddyfile --entrypoint /usr/bin/caddy \
	swarmgate/nginx:test run --config /etc/caddy/Caddyfile --adapter caddyfile >/dev/null
wait_for 18173
wait_for 18174
# The agents take the pooled config a moment after the gateway first serves.
sleep 5

# ms prints a wrk latency (850.00us, 1.20ms, 1.01s) in milliseconds.
ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.2f", n }'; }
declare -A rps p50 p99
names=(agents cli nginx caddy)
declare -A port=([agents]=18171 [cli]=18172 [nginx]=18173 [caddy]=18174)
declare -A label=([agents]="swarmgate gateway with agents" [cli]="swarmgate gateway, CLI only (no agent)"
	[nginx]="same nginx image, hand-tuned (upstream, keepalive 64)" [caddy]="Debian caddy, reverse_proxy")
for round in 1 2; do
	for n in "${names[@]}"; do
		out=$(wrk -t2 -c32 -d10s --latency -H 'Host: bench.test' "http://127.0.0.1:${port[$n]}/")
		r=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
		a=$(ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
		b=$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
		errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
		[ -n "$errors" ] && echo "$n round $round: $errors" >&2
		rps[$n]="${rps[$n]:-} $r" p50[$n]="${p50[$n]:-} $a" p99[$n]="${p99[$n]:-} $b"
	done
done

# mean of the rounds
mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF }' <<<"$1"; }
ref_rps=$(mean "${rps[nginx]}")
ref_p99=$(mean "${p99[nginx]}")
printf '| proxy | req/s | p50 | p99 | req/s vs hand-tuned nginx | p99 vs hand-tuned nginx |\n|---|---|---|---|---|---|\n'
for n in "${names[@]}"; do
	r=$(mean "${rps[$n]}") a=$(mean "${p50[$n]}") b=$(mean "${p99[$n]}")
	awk -v l="${label[$n]}" -v r="$r" -v a="$a" -v b="$b" -v rr="$ref_rps" -v rb="$ref_p99" \
		'BEGIN { printf "| %s | %d | %.1f ms | %.1f ms | %.0f%% | %.2fx |\n", l, r, a, b, 100 * r / rr, b / rb }'
done
