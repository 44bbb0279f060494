// Package reliability holds integration tests that build the fitbridge
// binary and run it as a child process against a real mosquitto. They cover
// broker outages and restarts, wrong credentials, stop signals and kill -9,
// hostile and bursty input, TLS, and the broker ACL example.
// docs/reliability.md lists the scenarios and what each guarantees. The
// package has no code outside its tests.
package reliability
