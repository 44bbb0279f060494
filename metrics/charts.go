package metrics

import "github.com/prometheus/client_golang/prometheus"

func (m *Metrics) newCharts() []prometheus.Collector {
	m.WSClients = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "websocket_clients",
		Help: "Chart feed WebSocket clients connected.",
	})

	m.WSMessagesSent = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "websocket_messages_sent_total",
		Help: "Chart feed messages queued to clients.",
	})

	m.WSClientsDropped = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "websocket_clients_dropped_total",
		Help: "Chart feed clients disconnected because they could not keep up.",
	})

	m.WSQueueHighWater = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "websocket_queue_high_water_messages",
		Help: "Largest number of messages seen waiting in one chart client's queue " +
			"since the process started.",
	})

	m.WSClientsRejected = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Name: "websocket_clients_rejected_total",
		Help: "Chart feed connections rejected because memory pressure was high.",
	})

	return []prometheus.Collector{
		m.WSClients, m.WSMessagesSent, m.WSClientsDropped, m.WSQueueHighWater,
		m.WSClientsRejected,
	}
}
