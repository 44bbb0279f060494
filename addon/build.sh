#!/bin/sh
# Builds the fitbridge binary the way the add-on image's build stage does.
# The Dockerfile runs this script, and addon/build_test.go runs it outside
# Docker, so a broken build step fails the tests.
#
# Usage: addon/build.sh OUTPUT [VERSION]
#   OUTPUT   path of the binary to write
#   VERSION  version stamped into the binary; default: the version in
#            addon/config.yaml
# GOARCH selects the target architecture (amd64 or arm64); the default is
# the host's.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: addon/build.sh OUTPUT [VERSION]" >&2
	exit 2
fi
root=$(cd "$(dirname "$0")/.." && pwd)
out=$1
case $out in
/*) ;;
*) out=$(pwd)/$out ;;
esac
version=${2:-$(sed -n 's/^version: "\(.*\)"$/\1/p' "$root/addon/config.yaml")}
if [ -z "$version" ]; then
	echo "addon/build.sh: no VERSION given and none found in addon/config.yaml" >&2
	exit 1
fi

cd "$root"
# A static binary without cgo, with paths trimmed so builds are reproducible,
# without symbol tables, and with the time zone database embedded because
# the runtime image has none.
CGO_ENABLED=0 GOOS=linux go build -trimpath -tags timetzdata \
	-ldflags "-s -w -X main.version=$version" -o "$out" ./cmd/fitbridge
