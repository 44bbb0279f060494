package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// zoneBarWidth is the width in characters of the longest zone-time bar.
const zoneBarWidth = 40

func sessionsCommand() *cli.Command {
	dirFlags := []cli.Flag{
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"FITBRIDGE_CONFIG"},
			Usage: "YAML configuration `FILE`; its data_dir is the folder of saved sessions"},
		&cli.StringFlag{Name: "data-dir", EnvVars: []string{"FITBRIDGE_DATA_DIR"},
			Usage: "`DIR` of saved sessions (overrides the file; default: the per-user data " +
				"folder, in whose demo/ subfolder fitbridge demo saves)"},
	}
	openStore := func(c *cli.Context) (*store.Store, error) {
		dir, err := sessionsDataDir(c)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("data dir %s: %w", dir, err)
		}
		return store.Open(dir)
	}
	return &cli.Command{
		Name:  "sessions",
		Usage: "list and show saved sessions",
		Subcommands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list saved sessions, newest first",
				Flags: dirFlags,
				Action: func(c *cli.Context) error {
					st, err := openStore(c)
					if err != nil {
						return err
					}
					list, err := st.List()
					if err != nil {
						return err
					}
					if len(list) == 0 {
						printNoSessions(c.App.Writer, st.Dir())
						return nil
					}
					tw := tabwriter.NewWriter(c.App.Writer, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tSTARTED\tDURATION\tEND\tPARTICIPANTS\tCOINS")
					for _, s := range list {
						coins := 0
						for _, p := range s.Participants {
							coins += p.Coins
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", s.SessionID,
							s.StartedAt.Local().Format("2006-01-02 15:04"),
							s.EndedAt.Sub(s.StartedAt).Round(time.Second), s.EndReason,
							len(s.Participants), coins)
					}
					return tw.Flush()
				},
			},
			{
				Name:      "show",
				Usage:     "show one saved session with each participant's time in zone",
				ArgsUsage: "ID",
				Flags:     dirFlags,
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return errors.New("sessions show: give one session ID (see sessions list)")
					}
					st, err := openStore(c)
					if err != nil {
						return err
					}
					saved, err := st.Load(c.Args().First())
					if errors.Is(err, fs.ErrNotExist) {
						return fmt.Errorf("session %s not found in %s", c.Args().First(), st.Dir())
					}
					if err != nil {
						return err
					}
					printSession(c.App.Writer, saved)
					return nil
				},
			},
		},
	}
}

// sessionsDataDir returns the folder of saved sessions: --data-dir or FITBRIDGE_DATA_DIR,
// else the data_dir of the --config file, else the per-user data folder.
func sessionsDataDir(c *cli.Context) (string, error) {
	if c.IsSet("data-dir") {
		return c.String("data-dir"), nil
	}
	cfg, err := config.Load(c.String("config"))
	if err != nil {
		return "", err
	}
	if cfg.DataDir == "" {
		return config.DefaultDataDir(), nil
	}
	return cfg.DataDir, nil
}

// printNoSessions prints that dir contains no saved sessions, and the demo's folder when
// dir has one with sessions in it.
func printNoSessions(w io.Writer, dir string) {
	fmt.Fprintf(w, "no saved sessions in %s\n", dir)
	demoDir := filepath.Join(dir, "demo")
	if _, err := os.Stat(demoDir); err != nil {
		return
	}
	// store.Open only creates the folder, which exists.
	if demo, err := store.Open(demoDir); err == nil {
		if list, err := demo.List(); err == nil && len(list) > 0 {
			fmt.Fprintf(w, "%d saved by fitbridge demo in %s; list them with --data-dir %s\n",
				len(list), demoDir, demoDir)
		}
	}
}

// printSession prints a saved session's summary and an ASCII bar of each
// participant's time per zone.
func printSession(w io.Writer, s *store.Saved) {
	fmt.Fprintf(w, "session %s\nstarted  %s\nended    %s (%s)\nduration %s, %d ticks of %s\n\n",
		s.SessionID, s.StartedAt.Format(time.RFC3339), s.EndedAt.Format(time.RFC3339), s.EndReason,
		s.EndedAt.Sub(s.StartedAt).Round(time.Second), s.Timeline.Ticks,
		time.Duration(s.CoinIntervalMS)*time.Millisecond)
	longest := 1
	for _, p := range s.Participants {
		for _, sec := range p.SecondsInZone {
			longest = max(longest, sec)
		}
	}
	for _, p := range s.Participants {
		fmt.Fprintf(w, "%s (%s): %d coins, heart rate avg %.1f, min %.0f, max %.0f, %d samples\n",
			p.Name, p.ID, p.Coins, p.HeartRateAvg, p.HeartRateMin, p.HeartRateMax, p.Samples)
		for _, z := range s.Zones {
			sec := p.SecondsInZone[z]
			bar := strings.Repeat("#", sec*zoneBarWidth/longest)
			fmt.Fprintf(w, "  %-8s %-*s %s\n", z, zoneBarWidth, bar,
				(time.Duration(sec) * time.Second).String())
		}
		fmt.Fprintln(w)
	}
}
