#!/usr/bin/env bash
# Builds the test images locally, since no registry is reachable:
#   swarmgate/echo:test   a static Go echo server FROM scratch (answers with its service, task and the
#                         request it got, like the Gateway API conformance echo server; GRPC=1: gRPC)
#   swarmgate/nginx:test  Debian's nginx, its stream module and the libraries they link, imported as
#                         an image
# Rebuilds only what changed (the tag carries a hash of the inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh
docker=/usr/bin/docker
unset DOCKER_HOST # this script drives the local engine (and the bed's by their own sockets)

has_image() { [ "$("$docker" image inspect --format '{{index .Config.Labels "swarmgate.input"}}' "$1" 2>/dev/null)" = "$2" ]; }

# echo
sum=$(cat hack/images/echo/*.go | sha256sum | cut -c1-16)
if ! has_image swarmgate/echo:test "$sum"; then
	dir=$(mktemp -d)
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$dir/echo" ./hack/images/echo
	printf 'FROM scratch\nCOPY echo /echo\nLABEL swarmgate.input=%s\nENTRYPOINT ["/echo"]\n' "$sum" >"$dir/Dockerfile"
	DOCKER_BUILDKIT=0 "$docker" build -q -t swarmgate/echo:test "$dir" >/dev/null
	rm -rf "$dir"
	echo "images: built swarmgate/echo:test" >&2
fi

# nginx from Debian's binary
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
stream_module=/usr/lib/nginx/modules/ngx_stream_module.so
sum=$( (sha256sum "$nginx_bin" "$stream_module"; cat hack/images/nginx.conf) | sha256sum | cut -c1-16)
if ! has_image swarmgate/nginx:test "$sum"; then
	dir=$(mktemp -d)
	mkdir -p "$dir/usr/sbin" "$dir/etc/nginx/conf.d" "$dir/var/log/nginx" "$dir/var/lib/nginx" "$dir/run" "$dir/tmp" "$dir/etc"
	cp "$nginx_bin" "$dir/usr/sbin/nginx"
	# The stream module, loaded as Debian loads it (the gateway agent includes modules-enabled
	# when a gateway has TCP, UDP or TLS listeners), by its absolute path.
	mkdir -p "$dir/usr/lib/nginx/modules" "$dir/etc/nginx/modules-enabled"
	cp "$stream_module" "$dir/usr/lib/nginx/modules/"
	echo "load_module $stream_module;" >"$dir/etc/nginx/modules-enabled/50-mod-stream.conf"
	for lib in $( (ldd "$nginx_bin"; ldd "$stream_module") | grep -o '/[^ ]*' | sort -u); do
		mkdir -p "$dir$(dirname "$lib")"
		cp -L "$lib" "$dir$lib"
	done
	cp /etc/nginx/mime.types "$dir/etc/nginx/mime.types"
	cp hack/images/nginx.conf "$dir/etc/nginx/nginx.conf"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
	echo 'nogroup:x:65534:' >"$dir/etc/group"
	echo 'root:x:0:' >>"$dir/etc/group"
	echo 'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >>"$dir/etc/passwd"
	tar -C "$dir" -c . | "$docker" import -c 'ENTRYPOINT ["/usr/sbin/nginx", "-g", "daemon off;"]' \
		-c "LABEL swarmgate.input=$sum" - swarmgate/nginx:test >/dev/null
	rm -rf "$dir"
	echo "images: built swarmgate/nginx:test" >&2
fi

# keepalived from Debian's binary, run by swarmgate's VRRP agent (the task binary,
# cmd/swarmgate-task, installed as swarmgate): the image VirtualIPs run on each node.
kdir=$(mktemp -d)
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$kdir/swarmgate" ./cmd/swarmgate-task
keepalived_bin=$(command -v keepalived || echo /usr/sbin/keepalived)
sum=$( (sha256sum "$keepalived_bin" "$kdir/swarmgate" | cut -c1-64) | sha256sum | cut -c1-16)
if ! has_image swarmgate/keepalived:test "$sum"; then
	root="$kdir/root"
	mkdir -p "$root/usr/sbin" "$root/usr/bin" "$root/etc/keepalived" "$root/run/swarmgate" "$root/tmp" "$root/var/run"
	cp "$keepalived_bin" "$root/usr/sbin/keepalived"
	cp "$kdir/swarmgate" "$root/usr/bin/swarmgate"
	for lib in $(ldd "$keepalived_bin" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	echo 'root:x:0:0:root:/root:/usr/sbin/nologin' >"$root/etc/passwd"
	echo 'root:x:0:' >"$root/etc/group"
	tar -C "$root" -c . | "$docker" import -c 'ENTRYPOINT ["/usr/bin/swarmgate", "vrrp-agent"]' \
		-c "LABEL swarmgate.input=$sum" - swarmgate/keepalived:test >/dev/null
	echo "images: built swarmgate/keepalived:test" >&2
fi
rm -rf "$kdir"

# The gateway image (Dockerfile.gateway, as make image builds it) on the nginx image above, with the
# task binary.
gdir=$(mktemp -d)
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$gdir/swarmgate" ./cmd/swarmgate-task
sum=$( (sha256sum "$gdir/swarmgate" Dockerfile.gateway | cut -c1-64; "$docker" image inspect --format '{{.ID}}' swarmgate/nginx:test) | sha256sum | cut -c1-16)
if ! has_image swarmgate/gateway:test "$sum"; then
	mkdir -p "$gdir/ctx"
	cp "$gdir/swarmgate" "$gdir/ctx/swarmgate"
	cp Dockerfile.gateway "$gdir/ctx/Dockerfile"
	DOCKER_BUILDKIT=0 "$docker" build -q --build-arg NGINX=swarmgate/nginx:test --label "swarmgate.input=$sum" -t swarmgate/gateway:test "$gdir/ctx" >/dev/null
	echo "images: built swarmgate/gateway:test" >&2
fi
rm -rf "$gdir"
