// Package discovery defines fitbridge's MQTT topic scheme towards Home
// Assistant, builds the Home Assistant MQTT discovery config messages for the
// bridge, participants, heart-rate straps and equipment, and renders the JSON
// state payloads those configs read.
//
// The package only builds messages. Publishing them, remembering what was
// published and clearing topics that are no longer produced is the job of the
// caller. Config messages are per-component discovery messages
// (<prefix>/<component>/<node_id>/<object_id>/config) with full key names.
// docs/home-assistant.md describes the topics and entities for users.
package discovery
