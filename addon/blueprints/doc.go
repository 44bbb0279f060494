// Package blueprints ships fitbridge's Home Assistant automation blueprints:
// a light that follows the highest heart-rate zone, a fan for hot
// participants and a notification with everyone's coins at the end of a
// session. They use only fitbridge's MQTT entities and events.
// docs/home-assistant.md describes how to import them.
package blueprints

import "embed"

// FS holds the blueprint files, one automation blueprint per .yaml file.
//
//go:embed *.yaml
var FS embed.FS
