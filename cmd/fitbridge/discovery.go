package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/discovery"
)

func discoveryCommand() *cli.Command {
	return &cli.Command{
		Name: "discovery",
		Usage: "print every Home Assistant discovery topic and payload for a configuration " +
			"as JSON lines, without connecting to a broker",
		Flags: commonFlags(),
		Action: func(c *cli.Context) error {
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(c.App.Writer)
			for _, m := range discovery.NewBuilder(cfg, version).All(cfg) {
				line := struct {
					Topic   string          `json:"topic"`
					Retain  bool            `json:"retain"`
					QoS     byte            `json:"qos"`
					Payload json.RawMessage `json:"payload"`
				}{m.Topic, m.Retain, m.QoS, m.Payload}
				if err := enc.Encode(line); err != nil {
					return fmt.Errorf("write discovery line: %w", err)
				}
			}
			return nil
		},
	}
}
