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
