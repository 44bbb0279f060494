// Package bench measures fitbridge against the broker it runs on. Every
// figure is taken side by side with a broker-only run in the same process
// and run, so that the report can quote ratios: absolute numbers depend on
// the machine and on what else runs on it.
//
// The harness starts its own mosquitto on a free loopback port and publishes
// heart-rate shaped QoS 0 messages with a paho client. A subscriber that only
// counts receives them, or a complete fitbridge service: bridge, session
// engine, state publishing and a chart feed with one WebSocket client. bench/run.sh runs the full suite; docs/benchmarks.md
// has the method and the results.
package bench
