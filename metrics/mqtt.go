package metrics

import "github.com/prometheus/client_golang/prometheus"

// Input kinds, the values of the "kind" label of MessagesReceived.
const (
	KindHeartRate = "heart_rate"
	KindVibration = "vibration"
	KindCommand   = "command"
	KindHAStatus  = "ha_status"
	KindOther     = "other"
)

// InvalidReadingReasons returns the values of the "reason" label of InvalidReadings: the
// reasons for which the bridge rejects an input message. New creates each at zero, so that
// rate() returns a series for a reason before its first rejection. The package's tests check
// the list against the bridge's source.
func InvalidReadingReasons() []string {
	return []string{
		// The payload decoders.
		"empty", "not_json", "not_text", "too_deep", "missing", "wrong_type", "not_finite",
		"zero", "sentinel", "out_of_range", "duplicate_key", "invalid_field",
		// The bridge: size limit, retained heart rates, commands and event times.
		"too_large", "retained", "bad_command", "future_timestamp",
		// The session engine's counters.
		"late", "duplicate", "unknown_device_evicted",
	}
}

func (m *Metrics) newMQTT() []prometheus.Collector {
	m.MessagesReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "mqtt_messages_received_total",
		Help: "MQTT messages received, by input kind.",
	}, []string{"kind"})
	touch(m.MessagesReceived, KindHeartRate, KindVibration, KindCommand, KindHAStatus, KindOther)

	m.InvalidReadings = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "readings_invalid_total",
		Help: "Input messages that held no valid reading, by reason.",
	}, []string{"reason"})
	touch(m.InvalidReadings, InvalidReadingReasons()...)

	m.InputDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "input_dropped_total",
		Help: "Input messages dropped because the input queue was full.",
	})

	m.InputQueueDepth = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "input_queue_depth",
		Help: "Input messages waiting for the session engine.",
	})

	m.PublishFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "mqtt_publish_failures_total",
		Help: "MQTT publishes that failed.",
	})

	m.BrokerConnected = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "mqtt_connected",
		Help: "1 while connected to the MQTT broker, else 0.",
	})

	m.Reconnects = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "mqtt_connections_total",
		Help: "Successful connections to the MQTT broker, the first one included.",
	})

	return []prometheus.Collector{
		m.MessagesReceived, m.InvalidReadings, m.InputDropped, m.InputQueueDepth,
		m.PublishFailures, m.BrokerConnected, m.Reconnects,
	}
}
