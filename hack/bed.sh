#!/usr/bin/env bash
# A real multi-node Docker Swarm on this one machine: three engines, each in its own network
# namespace, joined over a Linux bridge that lives in a "switch" namespace of its own (a bridge in
# the root namespace would be filtered by the host's br_netfilter). The root namespace reaches the
# nodes through one veth (10.99.0.254); the nodes have no default route, so nothing leaves the
# machine. Recipe and pitfalls: ../shared/notes/swarm-on-this-machine.md.
#
#   hack/bed.sh up [--managers 3|1] [--heartbeat 1s]   bring the bed up (idempotent; a bed that is
#                                                      up is promoted or demoted to that many managers)
#   hack/bed.sh down                                   stop exactly what up started
#   hack/bed.sh env N                                  print DOCKER_HOST of node N
#   hack/bed.sh link-down N | link-up N                cut or restore node N's link
#   hack/bed.sh stop-engine N | start-engine N         stop or start node N's dockerd
#   hack/bed.sh load-images                            copy the test images into every node
#
# Node N is hostname nodeN, address 10.99.0.N/24, engine socket /run/sgbed/nN/docker.sock. Every
# node is a manager by default (3 managers keep a quorum when one of them is lost; node1 joined the
# others to the swarm); --managers 1 makes node2 and node3 workers.
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=3
unset DOCKER_HOST # this script drives the local engine (and the bed's by their own sockets)
state=/run/sgbed            # sockets, pid files, logs
data=/var/lib/sgbed         # engines' data roots (on disk)
switch=sgbed-sw
docker=/usr/bin/docker
subnet=10.99.0
host_if=sgbed0

log() { echo "bed: $*" >&2; }
ns() { echo "sgbed-n$1"; }
sock() { echo "unix://$state/n$1/docker.sock"; }
dk() { local n=$1; shift; "$docker" -H "$(sock "$n")" "$@"; }
engine_up() { dk "$1" info >/dev/null 2>&1; }

# pid_of N prints the pid of node N's dockerd if it is running and is the dockerd we started.
pid_of() {
	local f="$state/n$1/docker.pid" pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f")
	[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dockerd ] || return 1
	echo "$pid"
}

network_up() {
	if [ ! -d /run/netns ]; then
		mkdir -p "$state"
		touch "$state/created-run-netns"
	fi
	mkdir -p "$state"
	ip netns list | grep -qw "$switch" || ip netns add "$switch"
	ip -n "$switch" link show br0 >/dev/null 2>&1 || {
		ip -n "$switch" link add br0 type bridge
		ip -n "$switch" link set br0 up
		ip -n "$switch" link set lo up
	}
	for n in $(seq 1 "$nodes"); do
		if ! ip netns list | grep -qw "$(ns "$n")"; then
			ip netns add "$(ns "$n")"
			ip link add "sgb-n$n" type veth peer name eth0 netns "$(ns "$n")"
			ip link set "sgb-n$n" netns "$switch"
			ip -n "$switch" link set "sgb-n$n" master br0 up
			ip -n "$(ns "$n")" addr add "$subnet.$n/24" dev eth0
			ip -n "$(ns "$n")" link set eth0 up
			ip -n "$(ns "$n")" link set lo up
		fi
	done
	if ! ip link show "$host_if" >/dev/null 2>&1; then
		ip link add "$host_if" type veth peer name sgb-host netns "$switch"
		ip -n "$switch" link set sgb-host master br0 up
		ip addr add "$subnet.254/24" dev "$host_if"
		ip link set "$host_if" up
	fi
}

# The entry of one node: its own hostname, a sysfs of its network namespace (dockerd needs to see
# its own interfaces) with the host's cgroup tree moved back under it, and per-node directories
# over the paths that dockerd 20.10 and containerd 1.6 write to whatever --data-root says.
write_entry() {
	cat >"$state/entry.sh" <<'EOF'
#!/bin/sh
set -e
n=$1 state=$2 data=$3 subnet=$4
hostname "node$n"
mkdir -p "$state/n$n/cg" "$data/n$n/lib" "$data/n$n/etc" "$data/n$n/crun" "$data/n$n/copt" "$data/n$n/root"
mount -n --rbind /sys/fs/cgroup "$state/n$n/cg"
mount -n -t sysfs sysfs /sys
mount -n --move "$state/n$n/cg" /sys/fs/cgroup
mount -n --bind "$data/n$n/lib" /var/lib/docker
mount -n --bind "$data/n$n/etc" /etc/docker
mount -n --bind "$data/n$n/crun" /run/containerd
mount -n --bind "$data/n$n/copt" /opt/containerd
echo '{}' >"$state/n$n/daemon.json"
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
exec /usr/sbin/dockerd --data-root "$data/n$n/root" --exec-root "$state/n$n/exec" \
	--pidfile "$state/n$n/docker.pid" --config-file "$state/n$n/daemon.json" \
	-H "unix://$state/n$n/docker.sock" --cgroup-parent "/sgbed-n$n" --userland-proxy=false \
	--swarm-default-advertise-addr "$subnet.$n"
EOF
	chmod 755 "$state/entry.sh"
}

start_engine() {
	local n=$1
	pid_of "$n" >/dev/null && return 0
	mkdir -p "$state/n$n" /var/lib/docker /etc/docker /run/containerd /opt/containerd
	rm -f "$state/n$n/docker.pid"
	(setsid unshare --mount --uts --propagation private -- nsenter --net="/run/netns/$(ns "$n")" -- \
		"$state/entry.sh" "$n" "$state" "$data" "$subnet" >>"$state/n$n/dockerd.log" 2>&1 &)
	for _ in $(seq 1 120); do
		engine_up "$n" && return 0
		sleep 0.25
	done
	log "dockerd of node$n did not start:"
	tail -20 "$state/n$n/dockerd.log" >&2
	exit 1
}

stop_engine() {
	local n=$1 pid
	pid=$(pid_of "$n") || return 0
	kill "$pid"
	# An exited daemon is reaped by pid 1 a moment later; wait until it is really gone.
	for _ in $(seq 1 120); do
		[ -d "/proc/$pid" ] || break
		[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" = Z ] && sleep 0.2 && continue
		sleep 0.25
	done
	if [ -d "/proc/$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = /usr/sbin/dockerd ]; then
		kill -9 "$pid" 2>/dev/null || true
	fi
	rm -f "$state/n$n/docker.pid"
}

# retry runs a command until it succeeds: node updates right after a join can fail with
# "update out of sequence".
retry() {
	for _ in $(seq 1 20); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	"$@"
}

# retry_out is retry for a command whose output is wanted.
retry_out() {
	local out
	for _ in $(seq 1 20); do
		out=$("$@" 2>/dev/null) && echo "$out" && return 0
		sleep 0.5
	done
	"$@"
}

swarm_up() {
	local managers=$1 heartbeat=$2
	if [ "$(dk 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
		dk 1 swarm init --advertise-addr "$subnet.1" --listen-addr "$subnet.1:2377" \
			--default-addr-pool 10.202.0.0/16 --default-addr-pool-mask-length 24 \
			--dispatcher-heartbeat "$heartbeat" >/dev/null
		if dk 1 network inspect ingress >/dev/null 2>&1; then
			echo y | dk 1 network rm ingress >/dev/null
		fi
	fi
	local worker manager
	worker=$(dk 1 swarm join-token -q worker)
	manager=$(dk 1 swarm join-token -q manager)
	for n in $(seq 2 "$nodes"); do
		[ "$(dk "$n" info --format '{{.Swarm.LocalNodeState}}')" = active ] && continue
		local token=$worker
		[ "$managers" = 3 ] && token=$manager
		dk "$n" swarm join --token "$token" --advertise-addr "$subnet.$n" --listen-addr "$subnet.$n:2377" "$subnet.1:2377" >/dev/null
	done
	# A bed that is up already changes shape in place: node2 and node3 are promoted or demoted.
	for n in $(seq 2 "$nodes"); do
		local role
		role=$(retry_out dk 1 node inspect --format '{{.Spec.Role}}' "node$n")
		if [ "$managers" = 3 ] && [ "$role" = worker ]; then
			retry dk 1 node promote "node$n"
		elif [ "$managers" = 1 ] && [ "$role" = manager ]; then
			retry dk 1 node demote "node$n"
		fi
	done
	for _ in $(seq 1 240); do
		if [ "$(dk 1 node ls --format '{{.Status}}' | grep -c Ready)" = "$nodes" ] &&
			[ "$(dk 1 node ls --format '{{.ManagerStatus}}' | grep -cE 'Leader|Reachable')" = "$managers" ]; then
			return 0
		fi
		sleep 0.25
	done
	log "not every node is Ready, or not $managers managers reachable:"
	dk 1 node ls >&2
	exit 1
}

load_images() {
	local imgs=(swarmgate/echo:test swarmgate/nginx:test swarmgate/keepalived:test swarmgate/gateway:test)
	local want
	want=$("$docker" image inspect --format '{{.ID}}' "${imgs[@]}" | sort | tr '\n' ' ')
	for n in $(seq 1 "$nodes"); do
		if [ "$(dk "$n" image inspect --format '{{.ID}}' "${imgs[@]}" 2>/dev/null | sort | tr '\n' ' ')" != "$want" ]; then
			"$docker" save "${imgs[@]}" | dk "$n" load -q >/dev/null
		fi
	done
}

up() {
	local managers=3 heartbeat=5s
	while [ $# -gt 0 ]; do
		case "$1" in
		--managers) managers=$2; shift 2 ;;
		--heartbeat) heartbeat=$2; shift 2 ;;
		*) echo "unknown flag $1" >&2; exit 2 ;;
		esac
	done
	[ "$managers" = 1 ] || [ "$managers" = 3 ] || { echo "--managers is 1 or 3" >&2; exit 2; }
	hack/swarm.sh up # the host engine builds the images the nodes load
	# A bed none of whose engines runs but whose data is on disk was killed with its machine: its
	# swarm would come back with the last run's objects. Start from an empty one.
	local running=0
	for n in $(seq 1 "$nodes"); do pid_of "$n" >/dev/null && running=1; done
	if [ "$running" = 0 ] && [ -d "$data" ]; then
		log "removing the data a bed killed with its machine left"
		rm -rf "$data"
	fi
	network_up
	write_entry
	for n in $(seq 1 "$nodes"); do start_engine "$n"; done
	swarm_up "$managers" "$heartbeat"
	load_images
	log "up: $(dk 1 node ls --format '{{.Hostname}}/{{.ManagerStatus}}' | tr '\n' ' ')"
}

down() {
	for n in $(seq "$nodes" -1 1); do stop_engine "$n"; done
	# Stray processes of a node (a keepalived or nginx whose shim outlived dockerd) die with it.
	for n in $(seq 1 "$nodes"); do
		if ip netns list | grep -qw "$(ns "$n")"; then
			for pid in $(ip netns pids "$(ns "$n")" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		fi
	done
	sleep 0.5
	for n in $(seq 1 "$nodes"); do
		ip netns list | grep -qw "$(ns "$n")" && ip netns del "$(ns "$n")"
		rmdir /sys/fs/cgroup/*/"sgbed-n$n" 2>/dev/null || true
	done
	ip link show "$host_if" >/dev/null 2>&1 && ip link del "$host_if"
	ip netns list | grep -qw "$switch" && ip netns del "$switch"
	if [ -f "$state/created-run-netns" ]; then
		umount -n /run/netns 2>/dev/null || true
		rmdir /run/netns 2>/dev/null || true
	fi
	rm -rf "$state" "$data"
	log "down"
}

link() {
	ip -n "$switch" link set "sgb-n$1" "$2"
}

case "${1:-}" in
up) shift; up "$@" ;;
down) down ;;
env) echo "DOCKER_HOST=$(sock "$2")" ;;
link-down) link "$2" down ;;
link-up) link "$2" up ;;
stop-engine) stop_engine "$2" ;;
start-engine) write_entry; start_engine "$2" ;;
load-images) load_images ;;
*)
	echo "usage: $0 up [--managers 3|1] [--heartbeat D] | down | env N | link-down N | link-up N | stop-engine N | start-engine N | load-images" >&2
	exit 2
	;;
esac
