#!/usr/bin/env bash
# Installs the dashboard's charting library from charts/web/package-lock.json with npm ci
# and copies the files the page loads into charts/web/static/vendor/, which the binary
# embeds. Commit the result, so that `go run` works on a clone without npm.
#
#   scripts/build-web.sh           rebuild charts/web/static/vendor/
#   scripts/build-web.sh --check   rebuild in a temporary folder and fail when the result
#                                  differs from the committed files
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
case "${1:-}" in
	"") ;;
	--check) check=true ;;
	*)
		echo "usage: $0 [--check]" >&2
		exit 2
		;;
esac

web=charts/web
vendor=$web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# npm ci runs in a copy so that no node_modules folder lands in the repository.
cp "$web/package.json" "$web/package-lock.json" "$work/"
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)

out=$work/vendor
mkdir -p "$out"
cp "$work/node_modules/uplot/dist/uPlot.iife.min.js" "$out/uPlot.iife.min.js"
cp "$work/node_modules/uplot/dist/uPlot.min.css" "$out/uPlot.min.css"
cp "$work/node_modules/uplot/LICENSE" "$out/uPlot.LICENSE"

if $check; then
	if ! diff -rq "$out" "$vendor"; then
		echo "$vendor differs from a rebuild from $web/package-lock.json;" \
			"run scripts/build-web.sh and commit the result" >&2
		exit 1
	fi
	echo "$vendor matches a rebuild from $web/package-lock.json"
	exit 0
fi

rm -rf "$vendor"
mkdir -p "$vendor"
cp "$out"/* "$vendor/"
echo "wrote $vendor from $web/package-lock.json"
