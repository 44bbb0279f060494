package discovery

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/config"
	"github.com/fitbridge/fitbridge/sessions"
)

var testStart = time.Date(2026, 6, 27, 19, 59, 41, 566_000_000, time.FixedZone("PDT", -7*3600))

func TestBridgeStatePayload(t *testing.T) {
	tests := []struct {
		pressure string
		want     string
	}{
		{"", `{"version":"1.2.3","started_at":"2026-06-28T02:59:41Z",` +
			`"memory_pressure":null,"memory_pressure_level":null}`},
		{MemoryNormal, `{"version":"1.2.3","started_at":"2026-06-28T02:59:41Z",` +
			`"memory_pressure":false,"memory_pressure_level":"normal"}`},
		{MemoryHigh, `{"version":"1.2.3","started_at":"2026-06-28T02:59:41Z",` +
			`"memory_pressure":true,"memory_pressure_level":"high"}`},
		{MemoryCritical, `{"version":"1.2.3","started_at":"2026-06-28T02:59:41Z",` +
			`"memory_pressure":true,"memory_pressure_level":"critical"}`},
	}
	for _, tt := range tests {
		got := string(BridgeStatePayload(BridgeInfo{
			Version: "1.2.3", StartedAt: testStart, MemoryPressure: tt.pressure,
		}))
		if got != tt.want {
			t.Errorf("pressure %q: BridgeStatePayload = %s, want %s", tt.pressure, got, tt.want)
		}
	}
}

func TestSessionStatePayload(t *testing.T) {
	tests := []struct {
		name string
		snap sessions.Snapshot
		want string
	}{
		{
			name: "running",
			snap: sessions.Snapshot{
				Running: true, SessionID: "20260627195941", StartedAt: testStart,
				Elapsed: 95*time.Second + 900*time.Millisecond, TotalCoins: 42,
				Participants: []sessions.ParticipantState{
					{ID: "a", Status: sessions.StatusActive},
					{ID: "b", Status: sessions.StatusIdle},
					{ID: "c", Status: sessions.StatusLeft},
					{ID: "d"},
				},
			},
			want: `{"running":true,"session_id":"20260627195941",` +
				`"started_at":"2026-06-28T02:59:41Z","elapsed_s":95,"participants":2,"total_coins":42}`,
		},
		{
			name: "stopped",
			snap: sessions.Snapshot{SessionID: "old", StartedAt: testStart, TotalCoins: 7},
			want: `{"running":false,"session_id":null,"started_at":null,"elapsed_s":0,` +
				`"participants":0,"total_coins":7}`,
		},
		{
			name: "negative elapsed",
			snap: sessions.Snapshot{Running: true, Elapsed: -time.Second},
			want: `{"running":true,"session_id":null,"started_at":null,"elapsed_s":0,` +
				`"participants":0,"total_coins":0}`,
		},
	}
	for _, tt := range tests {
		if got := string(SessionStatePayload(tt.snap)); got != tt.want {
			t.Errorf("%s: SessionStatePayload = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// twoZoneBuilder returns a builder whose zones are cool and warm.
func twoZoneBuilder() *Builder {
	cfg := config.Default()
	cfg.InstanceID = "test_node"
	cfg.Zones = []config.Zone{{ID: "cool", Name: "Cool"}, {ID: "warm", Name: "Warm", Min: 120}}
	return NewBuilder(cfg, testVersion)
}

func TestParticipantStatePayload(t *testing.T) {
	const unknownZones = `"zone_seconds":{"cool":null,"warm":null}}`
	tests := []struct {
		name    string
		p       sessions.ParticipantState
		seconds map[string]int
		want    string
	}{
		{
			name: "active",
			p: sessions.ParticipantState{HeartRate: 131.26, Zone: "warm", CommittedZone: "warm",
				Progress: 55.55, Coins: 12, Status: sessions.StatusActive},
			seconds: map[string]int{"cool": 10, "warm": 65},
			want: `{"heart_rate":131.3,"zone":"warm","zone_progress":55.6,"coins":12,` +
				`"status":"active","active":true,"zone_seconds":{"cool":10,"warm":65}}`,
		},
		{
			name: "committed zone lags the raw zone",
			p: sessions.ParticipantState{HeartRate: 118, Zone: "cool", CommittedZone: "warm",
				Progress: 100, Status: sessions.StatusActive},
			seconds: map[string]int{"warm": 5},
			want: `{"heart_rate":118,"zone":"warm","zone_progress":100,"coins":0,` +
				`"status":"active","active":true,"zone_seconds":{"cool":null,"warm":5}}`,
		},
		{
			name: "idle",
			p:    sessions.ParticipantState{Coins: 3, Status: sessions.StatusIdle, Progress: -1},
			want: `{"heart_rate":null,"zone":null,"zone_progress":null,"coins":3,` +
				`"status":"idle","active":false,` + unknownZones,
		},
		{
			name: "not appeared",
			p:    sessions.ParticipantState{},
			want: `{"heart_rate":null,"zone":null,"zone_progress":null,"coins":0,` +
				`"status":null,"active":false,` + unknownZones,
		},
		{
			name: "NaN values",
			p: sessions.ParticipantState{HeartRate: math.NaN(), CommittedZone: "cool",
				Progress: math.NaN(), Coins: 5, Status: sessions.StatusActive},
			want: `{"heart_rate":null,"zone":"cool","zone_progress":null,"coins":5,` +
				`"status":"active","active":true,` + unknownZones,
		},
		{
			name: "infinite heart rate",
			p:    sessions.ParticipantState{HeartRate: math.Inf(1), Status: sessions.StatusLeft},
			want: `{"heart_rate":null,"zone":null,"zone_progress":null,"coins":0,` +
				`"status":"left","active":false,` + unknownZones,
		},
		{
			name: "out of range values",
			p: sessions.ParticipantState{HeartRate: -1, CommittedZone: "warm", Progress: 250,
				Status: sessions.StatusActive},
			seconds: map[string]int{"cool": -5},
			want: `{"heart_rate":null,"zone":"warm","zone_progress":100,"coins":0,` +
				`"status":"active","active":true,` + unknownZones,
		},
	}
	b := twoZoneBuilder()
	for _, tt := range tests {
		if got := string(b.ParticipantStatePayload(tt.p, tt.seconds)); got != tt.want {
			t.Errorf("%s: ParticipantStatePayload =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func TestParticipantAvailable(t *testing.T) {
	tests := []struct {
		status sessions.Status
		want   bool
	}{
		{sessions.StatusActive, true},
		{sessions.StatusIdle, true},
		{sessions.StatusLeft, false},
		{"", false},
	}
	for _, tt := range tests {
		p := sessions.ParticipantState{Status: tt.status}
		if got := ParticipantAvailable(p); got != tt.want {
			t.Errorf("ParticipantAvailable(status %q) = %v, want %v", tt.status, got, tt.want)
		}
	}
	if got := string(AvailabilityPayload(true)); got != "online" {
		t.Errorf("AvailabilityPayload(true) = %q, want online", got)
	}
	if got := string(AvailabilityPayload(false)); got != "offline" {
		t.Errorf("AvailabilityPayload(false) = %q, want offline", got)
	}
}

func TestDeviceStatePayload(t *testing.T) {
	tests := []struct {
		name string
		d    DeviceState
		want string
	}{
		{
			name: "known",
			d:    DeviceState{Battery: 87, LastSeen: testStart, ParticipantID: "p-1"},
			want: `{"battery":87,"last_seen":"2026-06-28T02:59:41Z","participant":"p-1","assigned":"p-1"}`,
		},
		{
			name: "guest",
			d:    DeviceState{Battery: -1, ParticipantID: "guest-AA:BB:CC:00:00:06"},
			want: `{"battery":null,"last_seen":null,"participant":"guest-AA:BB:CC:00:00:06",` +
				`"assigned":"guest"}`,
		},
		{
			name: "battery above 100",
			d:    DeviceState{Battery: 101, ParticipantID: "p-1"},
			want: `{"battery":null,"last_seen":null,"participant":"p-1","assigned":"p-1"}`,
		},
		{
			name: "nobody",
			d:    DeviceState{Battery: 50},
			want: `{"battery":50,"last_seen":null,"participant":null,"assigned":null}`,
		},
	}
	for _, tt := range tests {
		if got := string(DeviceStatePayload(tt.d)); got != tt.want {
			t.Errorf("%s: DeviceStatePayload = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestEquipmentStatePayload(t *testing.T) {
	strength := 27.0
	nan := math.NaN()
	tests := []struct {
		name string
		e    sessions.EquipmentState
		r    SensorReport
		want string
	}{
		{
			name: "known",
			e:    sessions.EquipmentState{ID: "bag", Active: true, Events: 4},
			r:    SensorReport{Vibration: true, Battery: 97, LinkQuality: 120, Intensity: &strength},
			want: `{"vibration":true,"active":true,"events":4,"intensity":27,"battery":97,"linkquality":120}`,
		},
		{
			name: "unknown",
			e:    sessions.EquipmentState{ID: "bag"},
			r:    SensorReport{Battery: -1, LinkQuality: -1},
			want: `{"vibration":false,"active":false,"events":0,"intensity":null,"battery":null,"linkquality":null}`,
		},
		{
			name: "out of range",
			e:    sessions.EquipmentState{ID: "bag", Events: 1},
			r:    SensorReport{Battery: 150, LinkQuality: 256, Intensity: &nan},
			want: `{"vibration":false,"active":false,"events":1,"intensity":null,"battery":null,"linkquality":null}`,
		},
	}
	for _, tt := range tests {
		if got := string(EquipmentStatePayload(tt.e, tt.r)); got != tt.want {
			t.Errorf("%s: EquipmentStatePayload = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestEntityFieldsExistInState checks that every entity reads a key that its
// state payload really has, so a renamed JSON key cannot leave an entity
// reading nothing.
func TestEntityFieldsExistInState(t *testing.T) {
	b := twoZoneBuilder()
	samples := map[OwnerKind][]byte{
		OwnerBridge:      SessionStatePayload(sessions.Snapshot{}),
		OwnerParticipant: b.ParticipantStatePayload(sessions.ParticipantState{}, nil),
		OwnerDevice:      DeviceStatePayload(DeviceState{Battery: -1}),
		OwnerEquipment:   EquipmentStatePayload(sessions.EquipmentState{}, SensorReport{}),
	}
	bridgeState := BridgeStatePayload(BridgeInfo{})
	for _, kind := range []OwnerKind{OwnerBridge, OwnerParticipant, OwnerDevice, OwnerEquipment} {
		for _, e := range b.rows(kind) {
			sample := samples[e.owner]
			switch e.source {
			case fromBridgeState:
				sample = bridgeState
			case fromState, toAssign:
			default:
				if e.field != "" {
					t.Errorf("%s %s reads no state but has field %q", e.owner, e.key, e.field)
				}
				continue
			}
			var state map[string]any
			if err := json.Unmarshal(sample, &state); err != nil {
				t.Fatalf("decoding the %s state sample failed: %v", e.owner, err)
			}
			field, zoneID, perZone := strings.Cut(e.field, "['")
			value, ok := state[field]
			if perZone {
				zones, _ := value.(map[string]any)
				_, ok = zones[strings.TrimSuffix(zoneID, "']")]
			}
			if !ok {
				t.Errorf("%s %s reads %s, which the state payload lacks: %s",
					e.owner, e.key, e.field, sample)
			}
		}
	}
}
