#!/usr/bin/env bash
# Installs what building and testing swarmgate needs on a fresh Debian machine: Go on PATH, the real
# nginx and keepalived binaries the renderer tests run, git and gpg for the git source's tests
# (signed commits), OpenSSH for the ssh:// engine tests, and chromium for the dashboard's.
# Idempotent; sourced by the other scripts.
set -euo pipefail

apt_updated=""
apt_install() {
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to apt-get install $*" >&2
		return 1
	fi
	if [ -z "$apt_updated" ]; then
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
		apt_updated=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		export PATH="/usr/local/go/bin:$PATH"
	else
		echo "deps: installing Go from Debian, then the toolchain go.mod names" >&2
		apt_install golang-go
		export GOTOOLCHAIN=auto
	fi
fi
export PATH="$(go env GOPATH)/bin:$PATH"

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ] || missing+=(keepalived)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v gpg >/dev/null 2>&1 || missing+=(gnupg)
# ssh:// engines (DOCKER_HOST=ssh://user@host) are tested against sshd on loopback.
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
# ACME DNS-01 is tested with RFC 2136 updates to Knot DNS on loopback.
[ -x /usr/sbin/knotd ] || missing+=(knot)
# The dashboard is tested in a real headless browser.
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	apt_install "${missing[@]}"
fi
export PATH="$PATH:/usr/sbin:/sbin"
