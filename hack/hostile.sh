#!/usr/bin/env bash
# Prints what validating hostile and large sets of gateways with agents costs: `swarmgate validate`
# on the manifests hack/hostile writes, wall time and peak memory (GNU time). The README's
# figures for hostile input are these.
#   hack/hostile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source hack/deps.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/swarmgate" ./cmd/swarmgate
go build -o "$work/hostile" ./hack/hostile

# measure NAME ARGS...: writes the manifests, validates them and prints one line of figures.
measure() {
	local name=$1
	shift
	"$work/hostile" -out "$work/$name" "$@"
	local size verdict
	size=$(du -sb --exclude=gateways.yaml "$work/$name" | cut -f1)
	if /usr/bin/time -f '%e %M' -o "$work/$name.time" "$work/swarmgate" validate -f "$work/$name" >/dev/null 2>"$work/$name.err"; then
		verdict=valid
	else
		verdict="refused ($(tail -1 "$work/$name.err"))"
	fi
	read -r secs kb < <(tail -1 "$work/$name.time")
	printf '%-44s %6.2f MB of Routes  %6.1f s  %5d MB peak  %s\n' "$name $*" "$(echo "$size/1000000" | bc -l)" "$secs" $((kb / 1024)) "$verdict"
}

echo "== swarmgate validate, 120 gateways with agents unless said"
measure limits-1.9MB -shape limits -bytes 1900000
measure limits-8MB -shape limits
measure limits-32MB -shape limits -files 4
measure small-8MB -shape small
measure one-gateway-10000 -shape one
measure shared-3520 -shape shared -gateways 55
measure shared-8MB -shape shared -gateways 240
