package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/fitbridge/fitbridge/bridge"
	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/hassio"
)

// Defaults of the addon command, for the container the Supervisor runs.
const (
	addonDataDir = "/data/sessions"
	// addonListen is the ingress port of addon/config.yaml (8099, the
	// Supervisor's default) on every interface, since the ingress proxy
	// connects over the add-on network.
	addonListen = ":8099"
	// selfInfoTimeout bounds the optional add-on info request at start-up.
	selfInfoTimeout = 5 * time.Second
)

// addonOpenPaths are served on the ingress port to any client: the health
// probes, for the image's HEALTHCHECK, and the metrics, for a Prometheus
// scraper on the add-on network. None of them carries personal data.
var addonOpenPaths = []string{"/healthz", "/readyz", "/metrics"}

// mqttLookupDelays are the waits between attempts to get the MQTT service
// when the Supervisor fails with a 5xx status or a network error, for
// example while the broker add-on is still starting: about 30 s in all.
var mqttLookupDelays = []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second,
	16 * time.Second}

func addonCommand() *cli.Command {
	return &cli.Command{
		Name: "addon",
		Usage: "run as the Home Assistant add-on: read the add-on options, get the MQTT " +
			"broker from the Supervisor and serve the dashboard through ingress",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "options", Value: config.AddonOptionsPath,
				Usage: "add-on options `FILE` written by the Supervisor"},
			&cli.StringFlag{Name: "data-dir", Value: addonDataDir,
				Usage: "`DIR` for saved sessions"},
			&cli.StringFlag{Name: "http", Value: addonListen,
				Usage: "`ADDRESS` of the ingress port"},
			&cli.StringFlag{Name: "supervisor", Value: hassio.DefaultURL,
				Usage: "Supervisor API `URL`; the token comes from " + hassio.TokenEnv},
			&cli.StringFlag{Name: "ingress-proxy", Value: hassio.IngressProxy.String(),
				Usage: "the only client `IP` served on the ingress port, apart from " +
					"the health and metrics paths"},
		},
		Action: func(c *cli.Context) error {
			proxy, err := netip.ParseAddr(c.String("ingress-proxy"))
			if err != nil {
				return fmt.Errorf("invalid --ingress-proxy %q: want an IP address",
					c.String("ingress-proxy"))
			}
			client := hassio.NewClientFromEnv()
			client.BaseURL = c.String("supervisor")
			return runAddon(c.Context, addonSettings{
				OptionsPath:  c.String("options"),
				DataDir:      c.String("data-dir"),
				Listen:       c.String("http"),
				Supervisor:   client,
				IngressProxy: proxy,
				LookupDelays: mqttLookupDelays,
			}, c.App.ErrWriter, nil)
		},
	}
}

// addonSettings are the inputs of runAddon that do not come from the options file.
type addonSettings struct {
	OptionsPath  string
	DataDir      string
	Listen       string
	Supervisor   *hassio.Client
	IngressProxy netip.Addr
	// LookupDelays are the waits between attempts to get the MQTT service;
	// its length is the number of retries.
	LookupDelays []time.Duration
}

// errInvalidOptions starts every error caused by the add-on options.
var errInvalidOptions = errors.New("invalid add-on options; " +
	"correct them on the add-on's Configuration tab")

// runAddon starts the bridge from the add-on options and serves until ctx
// ends. Invalid options and a missing broker end it at once with an error
// that names what to change, so the add-on log shows one clear message.
// listening, if not nil, receives the HTTP address once the server listens.
func runAddon(ctx context.Context, s addonSettings, logOut io.Writer,
	listening func(addr string)) error {
	opts, err := config.ReadAddonOptions(s.OptionsPath)
	if err != nil {
		return fmt.Errorf("%w:\n%w", errInvalidOptions, err)
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: opts.SlogLevel()}))
	cfg, err := opts.Config()
	if err != nil {
		return fmt.Errorf("%w:\n%w", errInvalidOptions, err)
	}
	cfg.DataDir = s.DataDir
	cfg.HTTP.Listen = s.Listen
	// Option errors come first, so they are reported even without a broker.
	if err := config.AddonValidate(&cfg); err != nil {
		return fmt.Errorf("%w:\n%w", errInvalidOptions, err)
	}

	if opts.Has("broker_url") {
		log.Info("mqtt broker from add-on options", "broker", config.RedactURL(cfg.Broker.URL))
	} else {
		if err := useSupervisorBroker(ctx, s, &cfg, opts, log); err != nil {
			return err
		}
	}
	setAddonPageURL(ctx, s.Supervisor, &cfg, log)
	// The broker and link from the Supervisor are checked as well.
	if err := config.AddonValidate(&cfg); err != nil {
		return fmt.Errorf("%w:\n%w", errInvalidOptions, err)
	}
	svc, err := newService(cfg, log, bridge.Options{Checkpoints: true})
	if err != nil {
		return err
	}
	ingress := &hassio.Ingress{Proxy: s.IngressProxy, OpenPaths: addonOpenPaths, Logger: log}
	svc.wrapHTTP = ingress.Handler
	return svc.run(ctx, listening)
}

// useSupervisorBroker sets the broker URL and login from the Supervisor's
// MQTT service. The broker_username and broker_password options apply only
// together with broker_url, because the service comes with its own login.
func useSupervisorBroker(ctx context.Context, s addonSettings, cfg *config.Config,
	opts config.AddonOptions, log *slog.Logger) error {
	if opts.Has("broker_username") || opts.Has("broker_password") {
		log.Warn("broker_username and broker_password ignored: they apply only with broker_url")
	}
	svc, err := lookupMQTTService(ctx, s.Supervisor, s.LookupDelays, log)
	if err != nil {
		return fmt.Errorf("no MQTT broker: install and start the Mosquitto broker add-on, "+
			"or set broker_url on the add-on's Configuration tab: %w", err)
	}
	cfg.Broker.URL = svc.BrokerURL()
	cfg.Broker.Username = svc.Username
	cfg.Broker.Password = svc.Password
	log.Info("mqtt broker from supervisor", "broker", cfg.Broker.URL, "provider", svc.Addon,
		"username", svc.Username)
	return nil
}

// lookupMQTTService requests the MQTT service from the Supervisor, retrying
// after each delay while the failure may be temporary.
func lookupMQTTService(ctx context.Context, client *hassio.Client, delays []time.Duration,
	log *slog.Logger) (hassio.MQTTService, error) {
	for attempt := 0; ; attempt++ {
		svc, err := client.MQTTService(ctx)
		if err == nil {
			return svc, nil
		}
		if !lookupRetryable(err) || attempt >= len(delays) || ctx.Err() != nil {
			return hassio.MQTTService{}, err
		}
		log.Warn("mqtt service lookup failed; retrying", "err", err, "attempt", attempt+1,
			"retry_in", delays[attempt])
		timer := time.NewTimer(delays[attempt])
		select {
		case <-ctx.Done():
			timer.Stop()
			return hassio.MQTTService{}, err
		case <-timer.C:
		}
	}
}

// lookupRetryable reports whether a new request may succeed: not without a
// token, and not after a 4xx status such as a missing MQTT service.
func lookupRetryable(err error) bool {
	if errors.Is(err, hassio.ErrNoToken) {
		return false
	}
	var status *hassio.StatusError
	if errors.As(err, &status) {
		return status.Temporary()
	}
	return true
}

// setAddonPageURL points the bridge device's link in Home Assistant at the
// add-on's page. Without the add-on's slug the link is left out, which only
// costs the link, so a failure is logged and start-up goes on.
func setAddonPageURL(ctx context.Context, client *hassio.Client, cfg *config.Config,
	log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, selfInfoTimeout)
	defer cancel()
	info, err := client.SelfInfo(ctx)
	if err != nil {
		log.Warn("add-on info unavailable; the bridge device gets no configuration_url",
			"err", err)
		return
	}
	cfg.ConfigurationURL = hassio.AddonPageURL(info.Slug)
	log.Info("bridge device links to the add-on page", "configuration_url", cfg.ConfigurationURL)
}

// wrapHandler applies wrapHTTP, if set, to h.
func (s *service) wrapHandler(h http.Handler) http.Handler {
	if s.wrapHTTP == nil {
		return h
	}
	return s.wrapHTTP(h)
}
