#!/usr/bin/env bash
# Runs a memory soak with `fitbridge simulate` and plots the live heap.
#
#   scripts/soak.sh NAME [simulate flags...]
#
# writes docs/benchmarks/NAME.csv (one row per heap sample),
# docs/benchmarks/NAME.txt (the command and its output) and
# docs/benchmarks/NAME.png (the plot, when gnuplot is installed). The flags
# default to the 24-hour soak: 50 participants, 6 pieces of equipment and 20
# chart clients, one of them stalled, sampled every simulated 30 minutes,
# as fast as the bridge keeps up, failing unless the heap stays flat.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 1 ]; then
	echo "usage: $0 NAME [simulate flags...]" >&2
	exit 2
fi
name=$1
shift
if [ $# -eq 0 ]; then
	set -- --participants 50 --equipment 6 --ws-clients 20 --stalled 1 \
		--duration 24h --sample-every 30m --speed max --check
fi

out=docs/benchmarks
mkdir -p "$out"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/fitbridge" ./cmd/fitbridge

{
	echo "\$ fitbridge simulate $* --csv $out/$name.csv"
	echo "# $(go version), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
} >"$out/$name.txt"
status=0
"$bin/fitbridge" --log-level error simulate "$@" --csv "$out/$name.csv" 2>&1 |
	tee -a "$out/$name.txt" || status=$?

if command -v gnuplot >/dev/null; then
	gnuplot <<GNUPLOT
set terminal pngcairo size 900,480 font "sans,10"
set output "$out/$name.png"
set datafile separator ","
set key top left
set grid
set xlabel "simulated time (h)"
set ylabel "MiB"
set yrange [0:*]
set title "fitbridge simulate: live heap after a forced GC ($name)"
plot "$out/$name.csv" using (\$1/3600):(\$3/1048576) skip 1 with linespoints pt 7 ps 0.5 \
	title "live heap", \
     "" using (\$1/3600):(\$4/1048576) skip 1 with lines dt 2 title "mapped (runtime total - released)"
GNUPLOT
	echo "plot: $out/$name.png"
else
	echo "gnuplot not found; install gnuplot-nox to plot $out/$name.csv" >&2
fi
exit "$status"
