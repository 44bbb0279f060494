// Package metrics defines fitbridge's Prometheus metrics on an explicit
// registry, with the Go runtime and process collectors.
package metrics

import (
	"net/http"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "fitbridge"

// Input kinds, the values of the "kind" label of MessagesReceived.
const (
	KindHeartRate = "heart_rate"
	KindVibration = "vibration"
	KindCommand   = "command"
	KindHAStatus  = "ha_status"
	KindOther     = "other"
)

// Metrics holds every fitbridge metric. Label values come from fixed sets
// (input kinds, invalid-reading reasons), never from ids or topics.
type Metrics struct {
	Registry *prometheus.Registry

	MessagesReceived *prometheus.CounterVec
	InvalidReadings  *prometheus.CounterVec
	InputDropped     prometheus.Counter
	InputQueueDepth  prometheus.Gauge
	PublishFailures  prometheus.Counter
	BrokerConnected  prometheus.Gauge
	Reconnects       prometheus.Counter

	SessionActive  prometheus.Gauge
	Ticks          prometheus.Counter
	CoinsAwarded   prometheus.Counter
	SummaryWrites  *prometheus.CounterVec
	LateSamples    prometheus.Counter
	GuestsEvicted  prometheus.Counter
	UnknownSensors prometheus.Counter

	WSClients        prometheus.Gauge
	WSMessagesSent   prometheus.Counter
	WSClientsDropped prometheus.Counter
}

// New returns the metrics registered on a new registry.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		MessagesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "mqtt_messages_received_total",
			Help: "MQTT messages received, by input kind.",
		}, []string{"kind"}),
		InvalidReadings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "readings_invalid_total",
			Help: "Input messages that held no valid reading, by reason.",
		}, []string{"reason"}),
		InputDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "input_dropped_total",
			Help: "Input messages dropped because the input queue was full.",
		}),
		InputQueueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "input_queue_depth",
			Help: "Input messages waiting for the session engine.",
		}),
		PublishFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "mqtt_publish_failures_total",
			Help: "MQTT publishes that failed.",
		}),
		BrokerConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "mqtt_connected",
			Help: "1 while connected to the MQTT broker, else 0.",
		}),
		Reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "mqtt_connections_total",
			Help: "Successful connections to the MQTT broker, the first one included.",
		}),
		SessionActive: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "session_active",
			Help: "1 while a session is running, else 0.",
		}),
		Ticks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "session_ticks_total",
			Help: "Coin windows closed.",
		}),
		CoinsAwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "coins_awarded_total",
			Help: "Coins awarded to all participants.",
		}),
		SummaryWrites: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "session_summary_writes_total",
			Help: "Session summary files written, by result (ok or error).",
		}, []string{"result"}),
		LateSamples: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "samples_late_total",
			Help: "Valid heart-rate samples that arrived after their coin window closed.",
		}),
		GuestsEvicted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "guests_evicted_total",
			Help: "Guest participants dropped to keep the guest limit.",
		}),
		UnknownSensors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "vibration_unknown_equipment_total",
			Help: "Vibration reports for equipment that is not configured.",
		}),
		WSClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "websocket_clients",
			Help: "Chart feed WebSocket clients connected.",
		}),
		WSMessagesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "websocket_messages_sent_total",
			Help: "Chart feed messages queued to clients.",
		}),
		WSClientsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "websocket_clients_dropped_total",
			Help: "Chart feed clients disconnected because they could not keep up.",
		}),
	}
	m.Registry.MustRegister(
		m.MessagesReceived, m.InvalidReadings, m.InputDropped, m.InputQueueDepth,
		m.PublishFailures, m.BrokerConnected, m.Reconnects,
		m.SessionActive, m.Ticks, m.CoinsAwarded, m.SummaryWrites, m.LateSamples,
		m.GuestsEvicted, m.UnknownSensors,
		m.WSClients, m.WSMessagesSent, m.WSClientsDropped,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/(gc|memory)/.*`)},
		)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, kind := range []string{KindHeartRate, KindVibration, KindCommand, KindHAStatus, KindOther} {
		m.MessagesReceived.WithLabelValues(kind)
	}
	return m
}

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.InstrumentMetricHandler(m.Registry,
		promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}))
}
