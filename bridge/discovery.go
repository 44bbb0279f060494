package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/sessions"
)

// discoverySettle bounds how long the bridge collects the retained discovery
// configs and states after a connect when the sync marker does not arrive.
// With mosquitto and the embedded broker the marker ends the collection
// within milliseconds.
const discoverySettle = 3 * time.Second

// vibrationHold is how long after a vibration event the equipment state
// reports vibration. Home Assistant's off_delay turns the entity off even
// when the bridge's "off" state is lost.
const vibrationHold = 2 * time.Second

// discoveryState is the bridge's record of what Home Assistant discovery
// holds on the broker.
type discoveryState struct {
	// Owned by the engine loop goroutine.
	configs     map[string]string    // config topic -> payload on the broker
	refreshedAt map[string]time.Time // participant state topic -> wall time of its last publish
	hitEvents   map[string]int       // equipment id -> event count of its last hit event
	slugWarned  map[string]bool      // strap ids whose slug was logged; evicted guests leave it

	// The fields below are shared between the MQTT client's goroutines and
	// the engine loop.
	mu        sync.Mutex
	syncing   bool
	syncGen   int // counts syncs, so a sync overtaken by a reconnect hands over nothing
	nonce     string
	markerHit chan struct{} // closed when the marker with nonce arrives
	collected map[string][]byte
	// retained is the result of the last finished sync for announce, which
	// takes it; ok reports whether there is one.
	retained   map[string][]byte
	retainedOK bool
	pressure   string
}

func newDiscoveryState() *discoveryState {
	return &discoveryState{
		configs:     make(map[string]string),
		refreshedAt: make(map[string]time.Time),
		hitEvents:   make(map[string]int),
		slugWarned:  make(map[string]bool),
	}
}

// syncFilters returns the topic filters the start-up sync reads: this
// instance's discovery configs, the owner states and the marker.
func (b *Bridge) syncFilters() []string {
	return append([]string{b.topics.DiscoverySubscription(), b.topics.SyncMarker()},
		b.topics.OwnerStateSubscriptions()...)
}

// syncDiscovery collects the retained discovery configs and owner states
// that the broker holds for this instance, so that announce can clear what
// is no longer produced and skip what is unchanged. It subscribes, publishes
// a marker behind the retained messages, waits for the marker or
// discoverySettle, then unsubscribes. It runs on the goroutine that
// subscribes after a connect, before the engine loop announces.
func (b *Bridge) syncDiscovery(ctx context.Context, cm *autopaho.ConnectionManager) {
	d := b.disc
	nonce := newNonce()
	gen, markerHit := d.beginSync(nonce)
	ok := false
	defer func() { d.endSync(gen, ok) }()

	// QoS 0: mosquitto queues at most max_queued_messages (1,000 by default) QoS 1
	// messages for a client beyond those in flight, and drops the rest of a large
	// retained burst, the marker included. It does not cap QoS 0 messages that way.
	filters := b.syncFilters()
	subs := make([]paho.SubscribeOptions, len(filters))
	for i, f := range filters {
		subs[i] = paho.SubscribeOptions{Topic: f, QoS: 0}
	}
	if _, err := cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs}); err != nil {
		b.log.Warn("discovery sync subscribe failed; publishing every config", "err", err)
		return
	}
	defer func() {
		unsubCtx, cancel := context.WithTimeout(context.Background(), subscribeTimeout)
		defer cancel()
		if _, err := cm.Unsubscribe(unsubCtx, &paho.Unsubscribe{Topics: filters}); err != nil {
			b.log.Warn("discovery sync unsubscribe failed", "err", err)
		}
	}()

	_, err := cm.Publish(ctx, &paho.Publish{
		Topic: b.topics.SyncMarker(), Payload: []byte(nonce), QoS: 1,
	})
	if err != nil {
		b.log.Warn("discovery sync marker not published; waiting for the settle time",
			"err", err, "settle", discoverySettle)
	}
	timer := time.NewTimer(discoverySettle)
	defer timer.Stop()
	select {
	case <-markerHit:
	case <-timer.C:
		b.log.Warn("discovery sync marker did not arrive; using what arrived",
			"settle", discoverySettle)
	case <-ctx.Done():
		return
	}
	ok = true
}

func newNonce() string {
	var buf [8]byte
	_, _ = rand.Read(buf[:])
	return hex.EncodeToString(buf[:])
}

func (d *discoveryState) beginSync(nonce string) (int, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.syncGen++
	d.syncing = true
	d.nonce = nonce
	d.markerHit = make(chan struct{})
	d.collected = make(map[string][]byte)
	return d.syncGen, d.markerHit
}

// endSync stops the collection of sync gen and, when ok, hands what was
// collected to the next announce.
func (d *discoveryState) endSync(gen int, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if gen != d.syncGen {
		return
	}
	d.syncing = false
	d.retained, d.retainedOK = d.collected, ok
	d.collected = nil
}

// takeRetained returns the result of the last sync once.
func (d *discoveryState) takeRetained() (map[string][]byte, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	retained, ok := d.retained, d.retainedOK
	d.retained, d.retainedOK = nil, false
	return retained, ok
}

// captureSync consumes the messages of the sync filters, which are never
// bridge input: the heart-rate filter and equipment topics cannot reach the
// base topic or the discovery prefix (config validation rejects that). It
// keeps retained configs and states while a sync runs, and reports whether
// the message was consumed.
func (b *Bridge) captureSync(p *paho.Publish) bool {
	t := b.topics
	isMarker := p.Topic == t.SyncMarker()
	_, _, isState := t.ParseOwnerState(p.Topic)
	if !isMarker && !isState && !b.isOwnConfigTopic(p.Topic) {
		return false
	}
	d := b.disc
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !d.syncing:
	case isMarker:
		if string(p.Payload) == d.nonce {
			close(d.markerHit)
			d.nonce = ""
		}
	case p.Retain && len(p.Payload) > 0:
		d.collected[p.Topic] = p.Payload
	}
	return true
}

// isOwnConfigTopic reports whether topic is <prefix>/<component>/<node>/<id>/config.
func (b *Bridge) isOwnConfigTopic(topic string) bool {
	rest, ok := strings.CutPrefix(topic, b.topics.DiscoveryPrefix()+"/")
	if !ok {
		return false
	}
	levels := strings.Split(rest, "/")
	return len(levels) == 4 && levels[1] == b.topics.NodeID() && levels[3] == "config"
}

// producedConfigs returns every config the bridge produces now: those of the
// configuration and of the guests in snap, and marks those guests as
// announced.
func (b *Bridge) producedConfigs(snap sessions.Snapshot) []discovery.Message {
	msgs := b.builder.All(b.cfg)
	clear(b.guests)
	for _, p := range snap.Participants {
		if p.Guest {
			b.guests[p.ID] = true
			msgs = append(msgs, b.guestConfigs(p)...)
		}
	}
	return msgs
}

func (b *Bridge) guestConfigs(p sessions.ParticipantState) []discovery.Message {
	msgs := b.builder.Participant(p.ID, p.Name)
	for _, d := range p.Devices {
		b.warnSlug(d)
		msgs = append(msgs, b.builder.Device(d)...)
	}
	return msgs
}

// warnSlug logs once per id that its topics and unique ids use a slug with
// a hash suffix instead of the id itself.
func (b *Bridge) warnSlug(id string) {
	if slug := discovery.Slug(id); slug != id && !b.disc.slugWarned[id] {
		b.disc.slugWarned[id] = true
		b.log.Warn("discovery id slugged", "id", truncate(id, 64), "slug", slug)
	}
}

// reconcileConfigs publishes the configs produced now against the retained
// ones of the last sync: removals first, then the configs that differ. It
// also clears the retained states of owners no longer known. Without a
// sync result every config is published.
func (b *Bridge) reconcileConfigs(snap sessions.Snapshot) {
	for _, p := range b.cfg.Participants {
		for _, d := range p.Devices {
			b.warnSlug(d)
		}
	}
	produced := b.producedConfigs(snap)
	retained, ok := b.disc.takeRetained()
	clear(b.disc.configs)
	if !ok {
		for _, m := range produced {
			b.put(m)
			b.disc.configs[m.Topic] = string(m.Payload)
		}
		b.log.Info("discovery published without a sync", "configs", len(produced))
		return
	}

	// The sync also collected retained states; only configs are reconciled.
	configs := make(map[string][]byte, len(retained))
	for topic, payload := range retained {
		if b.isOwnConfigTopic(topic) {
			configs[topic] = payload
		}
	}
	plan := b.builder.Reconcile(configs, produced)
	for _, topic := range plan.Foreign {
		b.log.Warn("retained discovery config left alone; it is not this instance's",
			"topic", topic)
	}
	for _, m := range plan.Removals {
		b.put(m)
	}
	for _, m := range plan.Publish {
		b.put(m)
	}
	for _, m := range plan.Current {
		b.disc.configs[m.Topic] = string(m.Payload)
	}
	stale := b.topics.StaleStates(retained, b.knownOwners(snap))
	for _, m := range stale {
		b.put(m)
	}
	b.log.Info("discovery synced", "retained", len(retained), "removed", len(plan.Removals),
		"published", len(plan.Publish), "unchanged", len(plan.Current)-len(plan.Publish),
		"stale_states_cleared", len(stale))
}

// knownOwners returns the slugged ids of every participant, strap and piece
// of equipment in the configuration or in snap.
func (b *Bridge) knownOwners(snap sessions.Snapshot) map[discovery.OwnerKind]map[string]bool {
	known := map[discovery.OwnerKind]map[string]bool{
		discovery.OwnerParticipant: {},
		discovery.OwnerDevice:      {},
		discovery.OwnerEquipment:   {},
	}
	for _, p := range b.cfg.Participants {
		known[discovery.OwnerParticipant][discovery.Slug(p.ID)] = true
		for _, d := range p.Devices {
			known[discovery.OwnerDevice][discovery.Slug(d)] = true
		}
	}
	for _, e := range b.cfg.Equipment {
		known[discovery.OwnerEquipment][discovery.Slug(e.ID)] = true
	}
	for _, p := range snap.Participants {
		known[discovery.OwnerParticipant][discovery.Slug(p.ID)] = true
	}
	for _, d := range snap.Devices {
		known[discovery.OwnerDevice][discovery.Slug(d.ID)] = true
	}
	return known
}

// publishConfigs queues the configs whose payload differs from the one on
// the broker.
func (b *Bridge) publishConfigs(msgs []discovery.Message) {
	for _, m := range msgs {
		if b.disc.configs[m.Topic] == string(m.Payload) {
			continue
		}
		b.disc.configs[m.Topic] = string(m.Payload)
		b.put(m)
	}
}

// removeConfigs queues the removal of configs.
func (b *Bridge) removeConfigs(msgs []discovery.Message) {
	for _, m := range msgs {
		delete(b.disc.configs, m.Topic)
		b.put(discovery.Removal(m.Topic))
	}
}

// putEvent queues a Home Assistant event, which is never replaced by a later
// one on the same topic.
func (b *Bridge) putEvent(topic string, payload []byte) {
	b.out.putEvent(discovery.EventMessage(topic, payload))
}

// publishEventEntity sends the Home Assistant event entity message of an
// engine event: session start and resume on the bridge's entity, zone
// changes and coin milestones on the participant's. The session end is sent
// by publishSessionEnded, which has the summary.
func (b *Bridge) publishEventEntity(ev sessions.Event) {
	t := b.topics
	switch ev.Type {
	case sessions.EventSessionStarted:
		b.putEvent(t.SessionEvent(), discovery.SessionStartedPayload(ev.SessionID, ev.Time))
	case sessions.EventSessionResumed:
		b.putEvent(t.SessionEvent(), discovery.SessionResumedPayload(ev.SessionID))
	case sessions.EventZoneChanged:
		b.putEvent(t.ParticipantEvent(ev.Participant),
			discovery.ZoneChangedPayload(ev.Zone, ev.PreviousZone))
	case sessions.EventCoinMilestone:
		b.putEvent(t.ParticipantEvent(ev.Participant), discovery.CoinMilestonePayload(ev.Coins))
	}
}

// publishSessionEnded sends the session_ended event with every
// participant's coins.
func (b *Bridge) publishSessionEnded(sum sessions.Summary) {
	b.putEvent(b.topics.SessionEvent(), discovery.SessionEndedPayload(sum))
}

// publishHits sends one hit event for each piece of equipment whose event
// count rose since the last call. The first count seen for a piece of
// equipment, zero or restored from a checkpoint, sends nothing.
func (b *Bridge) publishHits(e sessions.EquipmentState, r discovery.SensorReport) {
	last, seen := b.disc.hitEvents[e.ID]
	b.disc.hitEvents[e.ID] = e.Events
	if seen && e.Events > last {
		b.putEvent(b.topics.EquipmentEvent(e.ID),
			discovery.HitPayload(e.Events-last, e.Events, r.Intensity))
	}
}

// ReportMemoryPressure sets the memory pressure level that the bridge's
// Home Assistant entity shows: discovery.MemoryNormal, MemoryHigh or
// MemoryCritical (the heap watchdog's level names). It is safe to call from
// any goroutine and takes effect with the next state publish.
func (b *Bridge) ReportMemoryPressure(level string) {
	b.disc.mu.Lock()
	b.disc.pressure = level
	b.disc.mu.Unlock()
}

func (b *Bridge) bridgeInfo() discovery.BridgeInfo {
	b.disc.mu.Lock()
	defer b.disc.mu.Unlock()
	return discovery.BridgeInfo{
		Version: b.opts.Version, StartedAt: b.started, MemoryPressure: b.disc.pressure,
	}
}
