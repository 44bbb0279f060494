// Command fitbridge bridges heart-rate straps and vibration sensors on MQTT
// to Home Assistant, runs workout sessions and serves live charts.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newApp(os.Stdout, os.Stderr).RunContext(ctx, os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "fitbridge:", err)
		os.Exit(1)
	}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	return &cli.App{
		Name:    "fitbridge",
		Usage:   "bridge gym heart-rate straps and vibration sensors on MQTT to Home Assistant",
		Version: version,
		Writer:  stdout, ErrWriter: stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name: "log-level", Value: "info", EnvVars: []string{"FITBRIDGE_LOG_LEVEL"},
				Usage: "minimum log level: debug, info, warn or error",
			},
		},
		Commands: []*cli.Command{
			runCommand(),
			replayCommand(),
			demoCommand(),
			simulateCommand(),
			discoveryCommand(),
			sessionsCommand(),
			addonCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					_, err := fmt.Fprintln(c.App.Writer, "fitbridge", version)
					return err
				},
			},
		},
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// commonFlags are the flags of every command that loads a configuration.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"FITBRIDGE_CONFIG"},
			Usage: "YAML configuration `FILE`"},
		&cli.StringFlag{Name: "broker", Usage: "MQTT broker `URL`, e.g. mqtt://127.0.0.1:1883 " +
			"(overrides the file and FITBRIDGE_BROKER_URL)"},
		&cli.StringFlag{Name: "data-dir", Usage: "`DIR` for saved session summaries " +
			"(default: the per-user data folder)"},
		&cli.StringFlag{Name: "http", Usage: "`ADDRESS` for the dashboard, chart feed and metrics, " +
			"e.g. 127.0.0.1:8080; empty in the file disables it"},
	}
}

// loadConfig reads the configuration in order of precedence: defaults, the
// file, FITBRIDGE_* variables, then flags.
func loadConfig(c *cli.Context) (config.Config, error) {
	cfg, err := config.Load(c.String("config"))
	if err != nil {
		return cfg, err
	}
	if err := cfg.ApplyEnv(configEnv(os.Environ())); err != nil {
		return cfg, err
	}
	if c.IsSet("broker") {
		cfg.Broker.URL = c.String("broker")
		cfg.SetSource("broker.url", "--broker")
	}
	if c.IsSet("data-dir") {
		cfg.DataDir = c.String("data-dir")
		cfg.SetSource("data_dir", "--data-dir")
	}
	if c.IsSet("http") {
		cfg.HTTP.Listen = c.String("http")
		cfg.SetSource("http.listen", "--http")
	}
	if cfg.DataDir == "" {
		cfg.DataDir = config.DefaultDataDir()
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// newLogger returns a text logger at the level of the --log-level flag.
func newLogger(c *cli.Context, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(c.String("log-level")))); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: want debug, info, warn or error",
			c.String("log-level"))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), nil
}

// configEnv returns environ without the FITBRIDGE_* variables that set
// command-line options rather than configuration keys.
func configEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		if strings.HasPrefix(kv, "FITBRIDGE_LOG_LEVEL=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
