package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/broker"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/replay"
	"github.com/fitbridge/fitbridge/sessions"
)

// DefaultReplayStart is the time a replay's first message is stamped with
// unless --start sets another. It is fixed so that replays of the same
// recordings give identical summaries, session ids included.
var DefaultReplayStart = time.Date(2026, 1, 5, 18, 0, 0, 0, time.UTC)

const (
	// replayWindow is how many messages the player may publish ahead of
	// what the engine has handled. It stays well below the bridge's input
	// queue and the brokers' per-client queues, so nothing is dropped.
	replayWindow = 256
	// replayStallTimeout is how long a replay waits for the engine to make
	// progress before it reports the messages as lost.
	replayStallTimeout = 30 * time.Second
	// replayChartQueue is the chart feed's per-client queue in a replay.
	replayChartQueue = 1 << 16
)

func replayCommand() *cli.Command {
	return &cli.Command{
		Name:      "replay",
		Usage:     "replay recorded MQTT messages through a broker and the bridge, then summarise",
		ArgsUsage: "RECORDING.jsonl...",
		Description: "Flags go before the recordings. Without --broker an embedded broker on " +
			"127.0.0.1 is used.",
		Flags: append(commonFlags(),
			&cli.StringFlag{Name: "speed", Value: "max",
				Usage: "playback speed: N plays N times faster than recorded, max as fast as possible"},
			&cli.StringFlag{Name: "summary", Usage: "write the summaries of every session as a " +
				"JSON array to `FILE`"},
			&cli.BoolFlag{Name: "stats", Usage: "report message count, duration and peak Go heap"},
			&cli.TimestampFlag{Name: "start", Layout: time.RFC3339,
				Usage: "RFC 3339 `TIME` of the first recorded message (default " +
					DefaultReplayStart.Format(time.RFC3339) + ")"},
		),
		Action: func(c *cli.Context) error {
			log, err := newLogger(c, c.App.ErrWriter)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				return errors.New("replay: missing RECORDING argument; give one or more .jsonl files")
			}
			speed, err := parseSpeed(c.String("speed"))
			if err != nil {
				return err
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			job := replayJob{
				Config:     cfg,
				Files:      c.Args().Slice(),
				Speed:      speed,
				Start:      DefaultReplayStart,
				UseBroker:  c.IsSet("broker") || os.Getenv("FITBRIDGE_BROKER_URL") != "",
				Log:        log,
				Progress:   isTerminal(c.App.ErrWriter),
				ProgressTo: c.App.ErrWriter,
			}
			if t := c.Timestamp("start"); t != nil {
				job.Start = *t
			}
			res, err := job.run(c.Context)
			if err != nil {
				return err
			}
			if path := c.String("summary"); path != "" {
				if err := writeSummaries(path, res.Summaries); err != nil {
					return err
				}
			}
			printSummaryTable(c.App.Writer, res.Summaries)
			if c.Bool("stats") {
				fmt.Fprintf(c.App.Writer, "messages: %d in %s; peak heap in use: %.1f MiB\n",
					res.Messages, res.Duration.Round(time.Millisecond),
					float64(res.PeakHeapBytes)/(1<<20))
			}
			return nil
		},
	}
}

// parseSpeed turns the --speed value into a factor; 0 means as fast as possible.
func parseSpeed(s string) (float64, error) {
	if s == "max" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("invalid --speed %q: want a positive number or max", s)
	}
	return f, nil
}

// replayJob plays recordings through a broker into a bridge running on
// event time and collects the sessions they produce.
type replayJob struct {
	Config config.Config
	Files  []string
	// Speed is the playback factor; 0 plays as fast as possible.
	Speed float64
	// Start is the time stamped on the first recorded message.
	Start time.Time
	// UseBroker uses Config.Broker.URL instead of an embedded broker.
	UseBroker  bool
	Log        *slog.Logger
	Progress   bool
	ProgressTo io.Writer
	// Listening, if not nil, is called with the HTTP address when the
	// service serves HTTP (Config.HTTP.Listen not empty).
	Listening func(addr string)
}

type replayResult struct {
	Summaries     []sessions.Summary
	Messages      int
	Duration      time.Duration
	PeakHeapBytes uint64
}

func (j replayJob) run(ctx context.Context) (replayResult, error) {
	var res replayResult
	var files [][]replay.Message
	for _, path := range j.Files {
		msgs, err := replay.ReadFile(path)
		if err != nil {
			return res, err
		}
		files = append(files, msgs)
	}
	msgs := replay.Merge(files...)
	res.Messages = len(msgs)

	peak := startHeapSampler()
	defer peak.stop()
	began := time.Now()

	cfg := j.Config
	if !j.UseBroker {
		emb, err := broker.Start("127.0.0.1:0", j.Log.With("component", "broker"))
		if err != nil {
			return res, fmt.Errorf("start embedded broker: %w", err)
		}
		defer emb.Close()
		cfg.Broker.URL = emb.URL()
	}
	clientID := cfg.Broker.ClientID + "-replay"
	conn, err := replayConnection(ctx, cfg.Broker, clientID, j.UseBroker)
	if err != nil {
		return res, err
	}

	// A replay at full speed closes thousands of ticks a second; its chart
	// clients get a queue long enough not to be dropped for that.
	svc, err := newServiceWithQueue(cfg, j.Log,
		bridge.Options{EventClock: true, KeepSummaries: 1 << 20}, replayChartQueue)
	if err != nil {
		return res, err
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- svc.run(runCtx, j.Listening) }()
	stop := func() error {
		cancel()
		return <-runErr
	}

	// The player's flow control counts only the messages the bridge
	// subscribes to: accepted[i] is their number among the first i.
	accepted := make([]uint64, len(msgs)+1)
	ignored := map[string]int{}
	for i, m := range msgs {
		accepted[i+1] = accepted[i]
		if svc.bridge.Accepts(m.Topic) {
			accepted[i+1]++
		} else {
			ignored[m.Topic]++
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(ignored)) {
		n := ignored[topic]
		j.Log.Warn("recorded topic matches no input of the configuration; its messages "+
			"are published but ignored", "topic", topic, "messages", n)
	}

	if err := svc.bridge.WaitConnected(ctx); err != nil {
		stop()
		return res, err
	}

	var bar *progressbar.ProgressBar
	if j.Progress {
		bar = progressbar.NewOptions(len(msgs), progressbar.OptionSetWriter(j.ProgressTo),
			progressbar.OptionSetDescription("replay"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	player, err := replay.NewPlayer(conn.URL.String(), msgs, replay.Options{
		Base:      j.Start,
		Speed:     j.Speed,
		ClientID:  clientID,
		Username:  conn.Username,
		Password:  string(conn.Password),
		TLSConfig: conn.TLS,
		Logger:    j.Log,
		Wait: func(ctx context.Context, published int) error {
			return waitProcessed(ctx, svc, accepted[max(0, published-replayWindow)])
		},
		Progress: func(done, _ int) {
			if bar != nil {
				_ = bar.Set(done)
			}
		},
	})
	if err != nil {
		stop()
		return res, err
	}
	if err := player.Run(ctx); err != nil {
		stop()
		return res, fmt.Errorf("replay: %w", err)
	}
	if err := waitProcessed(ctx, svc, accepted[len(msgs)]); err != nil {
		stop()
		return res, err
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if n := svc.bridge.Dropped(); n > 0 {
		stop()
		return res, fmt.Errorf("replay: %d messages were dropped before the engine; "+
			"the summary would be incomplete", n)
	}
	if err := svc.bridge.EndSession(ctx, sessions.EndReplay); err != nil {
		stop()
		return res, err
	}
	res.Summaries = svc.bridge.Summaries()
	if err := stop(); err != nil {
		return res, err
	}
	res.Duration = time.Since(began)
	res.PeakHeapBytes = peak.stop()
	return res, nil
}

// replayConnection reads the broker settings that the bridge and the player
// share: the credentials of broker.username, broker.password_file or the URL,
// and the TLS files. For an external broker it connects once as clientID, so
// that a broker that is unreachable or rejects the credentials ends the
// replay with an error instead of an endless wait for the connection.
func replayConnection(ctx context.Context, b config.Broker, clientID string,
	external bool) (bridge.BrokerConnection, error) {
	conn, err := bridge.NewBrokerConnection(b)
	if err != nil {
		return conn, fmt.Errorf("replay: %w", err)
	}
	if external {
		if err := conn.CheckConnect(ctx, clientID); err != nil {
			return conn, fmt.Errorf("replay: %w", err)
		}
	}
	return conn, nil
}

// waitProcessed waits until the bridge has handled at least n input
// messages. It fails when the count stops moving for replayStallTimeout,
// which means the broker lost messages.
func waitProcessed(ctx context.Context, svc *service, n uint64) error {
	last := svc.bridge.Processed()
	lastMove := time.Now()
	for last < n {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		cur := svc.bridge.Processed()
		if cur != last {
			last, lastMove = cur, time.Now()
			continue
		}
		if time.Since(lastMove) > replayStallTimeout {
			return fmt.Errorf("replay: the bridge received %d of %d messages and nothing more "+
				"for %s; the broker dropped messages", cur, n, replayStallTimeout)
		}
	}
	return nil
}

func writeSummaries(path string, sums []sessions.Summary) error {
	if sums == nil {
		sums = []sessions.Summary{}
	}
	data, err := json.MarshalIndent(sums, "", "  ")
	if err != nil {
		return fmt.Errorf("encode summaries: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write summary file: %w", err)
	}
	return nil
}

func printSummaryTable(w io.Writer, sums []sessions.Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tEND\tPARTICIPANT\tCOINS\tSAMPLES\tHR AVG\tHR MIN\tHR MAX")
	for _, s := range sums {
		for _, p := range s.Participants {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.1f\t%.0f\t%.0f\n", s.SessionID, s.EndReason,
				p.ID, p.Coins, p.Samples, p.HeartRateAvg, p.HeartRateMin, p.HeartRateMax)
		}
	}
	tw.Flush()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// heapSampler records the peak of the Go heap in use, read from
// runtime/metrics, which does not stop the world.
type heapSampler struct {
	once sync.Once
	done chan struct{}
	peak chan uint64
}

func startHeapSampler() *heapSampler {
	h := &heapSampler{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-h.done:
				h.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// stop ends the sampling and returns the peak; later calls return 0.
func (h *heapSampler) stop() uint64 {
	var peak uint64
	h.once.Do(func() {
		close(h.done)
		peak = <-h.peak
	})
	return peak
}
