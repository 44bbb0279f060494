// Package discovery defines fitbridge's MQTT topic scheme towards Home
// Assistant, builds the Home Assistant MQTT discovery messages for the
// bridge, participants, heart-rate straps and equipment, and renders the
// JSON state and event payloads those entities read.
//
// Every entity comes from one table (entities.go). The Builder turns it into
// per-component discovery messages
// (<prefix>/<component>/<node_id>/<object_id>/config) or, in device mode,
// one device-based message per device (<prefix>/device/<node_id>/<id>/config),
// with full key names and a fixed key order. Builder.Reconcile compares the
// configs retained on the broker with those produced now and returns what
// to remove and what to publish. Publishing, and remembering what was
// published, is the job of the caller (package bridge).
// docs/home-assistant.md describes the topics and entities for users.
package discovery
