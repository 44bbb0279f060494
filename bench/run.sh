#!/usr/bin/env bash
# Runs the full benchmark suite: the micro benchmarks of the hot path, then
# fitbench against a mosquitto it starts on loopback. Results go to
# docs/benchmarks/throughput/ (results.md, results.json, chart.svg) and
# micro.txt there. Takes about 2.5 minutes on 2 cores.
#
# Usage: bench/run.sh [extra fitbench flags, e.g. -count 500000]
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/docs/benchmarks/throughput"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
echo "== micro benchmarks (decode + engine)" >&2
go test -run '^$' -bench 'DecodeHeartRate|EngineHeartRate' -benchmem -count 5 \
    ./bridge/ ./sessions/ | tee "$out/micro.txt"

echo "== fitbench" >&2
go build -o "$work/fitbridge" ./cmd/fitbridge
go build -o "$work/fitbench" ./bench/cmd/fitbench
"$work/fitbench" -out "$out" -binary "$work/fitbridge" "$@"
