#!/usr/bin/env bash
# Runs every check of the project on a fresh Debian machine: installs what
# the tests need (mosquitto, and promtool from the prometheus package), then
# go vet and the race-enabled test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || need+=(mosquitto)
# Debian's prometheus package ships promtool, which checks the alert rules.
command -v promtool >/dev/null || need+=(prometheus)
# apparmor_parser compiles the add-on's AppArmor profile as a syntax check.
[ -x /usr/sbin/apparmor_parser ] || command -v apparmor_parser >/dev/null || need+=(apparmor)
# Debian's Chromium runs the dashboard's browser tests in e2e/.
[ -x /usr/bin/chromium ] || need+=(chromium)
# npm rebuilds the dashboard's charting library for the check below.
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The embedded copy of the charting library must equal a rebuild from its lock file.
./scripts/build-web.sh --check

go vet ./...
go test -race -count=1 -timeout 25m ./...
