#!/usr/bin/env bash
# Brings a single-node Docker Swarm up on this machine, or down again. Idempotent.
#   hack/swarm.sh up     install Debian's docker.io if no engine is present, start dockerd if none
#                        runs, `docker swarm init` on loopback, build the test images
#   hack/swarm.sh down   leave the swarm and stop dockerd, but only what `up` started
#   hack/swarm.sh restart-engine   stop and start the dockerd `up` started (tests of engine restarts)
# These machines have no IPVS: the ingress routing mesh and VIP endpoint mode do not work here, so
# `up` removes the ingress network (a mistaken ingress publish then fails clearly) and tests publish
# in host mode with dnsrr backends.
set -euo pipefail
cd "$(dirname "$0")/.."

state=/run/swarmgate-hack
unset DOCKER_HOST # this script drives the local engine (and the bed's by their own sockets)
docker=/usr/bin/docker # Debian's client; /usr/local/bin/docker may be a newer client only

log() { echo "swarm: $*" >&2; }

engine_up() { "$docker" info >/dev/null 2>&1; }

up() {
	mkdir -p "$state"
	if [ ! -x /usr/sbin/dockerd ]; then
		log "installing docker.io"
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
	fi
	if ! engine_up; then
		log "starting dockerd"
		start_dockerd
	fi
	if [ "$("$docker" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
		log "swarm init"
		"$docker" swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 \
			--default-addr-pool 10.201.0.0/16 --default-addr-pool-mask-length 24 >/dev/null
		touch "$state/swarm-initialized"
		if "$docker" network inspect ingress >/dev/null 2>&1; then
			echo y | "$docker" network rm ingress >/dev/null
		fi
	fi
	hack/images.sh
	log "up: $("$docker" info --format 'engine {{.ServerVersion}}, swarm {{.Swarm.LocalNodeState}}, node {{.Swarm.NodeID}}')"
}

start_dockerd() {
	# No registry is reachable: without this the swarm agent tries to pull every image first.
	# The daemon outlives this script: it must not inherit its open files beyond the standard
	# ones (a caller's flock would otherwise be held for as long as dockerd runs).
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 setsid /usr/sbin/dockerd >>"$state/dockerd.log" 2>&1 </dev/null &
		echo $! >"$state/dockerd.pid"
	)
	for _ in $(seq 1 60); do
		engine_up && return 0
		sleep 0.5
	done
	log "dockerd did not start:"
	tail -20 "$state/dockerd.log" >&2
	exit 1
}

stop_dockerd() {
	pid=$(cat "$state/dockerd.pid")
	if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dockerd ]; then
		log "stopping dockerd ($pid)"
		kill "$pid"
		for _ in $(seq 1 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.5
		done
	fi
	rm -f "$state/dockerd.pid"
}

restart_engine() {
	if [ ! -f "$state/dockerd.pid" ]; then
		log "restart-engine: dockerd was not started by hack/swarm.sh up"
		exit 1
	fi
	stop_dockerd
	start_dockerd
	log "dockerd restarted"
}

down() {
	if [ -f "$state/swarm-initialized" ] && engine_up; then
		log "leaving the swarm"
		"$docker" swarm leave --force >/dev/null || true
		rm -f "$state/swarm-initialized"
	fi
	if [ -f "$state/dockerd.pid" ]; then
		stop_dockerd
	fi
}

case "${1:-}" in
up) up ;;
down) down ;;
restart-engine) restart_engine ;;
*)
	echo "usage: $0 up|down|restart-engine" >&2
	exit 2
	;;
esac
