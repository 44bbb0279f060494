#!/usr/bin/env bash
# Runs every check of the project on a fresh Debian machine: installs what
# the tests need (mosquitto), then go vet and the race-enabled test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

go vet ./...
go test -race -count=1 -timeout 25m ./...
