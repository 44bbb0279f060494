package discovery

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

var testStart = time.Date(2026, 6, 27, 19, 59, 41, 566_000_000, time.FixedZone("PDT", -7*3600))

func TestBridgeStatePayload(t *testing.T) {
	got := string(BridgeStatePayload("1.2.3", testStart))
	want := `{"version":"1.2.3","started_at":"2026-06-28T02:59:41Z"}`
	if got != want {
		t.Errorf("BridgeStatePayload = %s, want %s", got, want)
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

func TestParticipantStatePayload(t *testing.T) {
	tests := []struct {
		name string
		p    sessions.ParticipantState
		want string
	}{
		{
			name: "active",
			p:    sessions.ParticipantState{HeartRate: 131.26, Zone: "warm", Coins: 12, Status: sessions.StatusActive},
			want: `{"heart_rate":131.3,"zone":"warm","coins":12,"status":"active","active":true}`,
		},
		{
			name: "idle",
			p:    sessions.ParticipantState{HeartRate: 72, Zone: "cool", Coins: 3, Status: sessions.StatusIdle},
			want: `{"heart_rate":72,"zone":"cool","coins":3,"status":"idle","active":false}`,
		},
		{
			name: "not appeared",
			p:    sessions.ParticipantState{},
			want: `{"heart_rate":null,"zone":null,"coins":0,"status":null,"active":false}`,
		},
		{
			name: "NaN heart rate",
			p:    sessions.ParticipantState{HeartRate: math.NaN(), Coins: 5, Status: sessions.StatusActive},
			want: `{"heart_rate":null,"zone":null,"coins":5,"status":"active","active":true}`,
		},
		{
			name: "infinite heart rate",
			p:    sessions.ParticipantState{HeartRate: math.Inf(1), Status: sessions.StatusLeft},
			want: `{"heart_rate":null,"zone":null,"coins":0,"status":"left","active":false}`,
		},
		{
			name: "negative heart rate",
			p:    sessions.ParticipantState{HeartRate: -1, Status: sessions.StatusActive},
			want: `{"heart_rate":null,"zone":null,"coins":0,"status":"active","active":true}`,
		},
	}
	for _, tt := range tests {
		if got := string(ParticipantStatePayload(tt.p)); got != tt.want {
			t.Errorf("%s: ParticipantStatePayload = %s, want %s", tt.name, got, tt.want)
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
			want: `{"battery":87,"last_seen":"2026-06-28T02:59:41Z","participant":"p-1"}`,
		},
		{
			name: "unknown",
			d:    DeviceState{Battery: -1, ParticipantID: "guest-AA:BB:CC:00:00:06"},
			want: `{"battery":null,"last_seen":null,"participant":"guest-AA:BB:CC:00:00:06"}`,
		},
		{
			name: "battery above 100",
			d:    DeviceState{Battery: 101, ParticipantID: "p-1"},
			want: `{"battery":null,"last_seen":null,"participant":"p-1"}`,
		},
	}
	for _, tt := range tests {
		if got := string(DeviceStatePayload(tt.d)); got != tt.want {
			t.Errorf("%s: DeviceStatePayload = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestEquipmentStatePayload(t *testing.T) {
	tests := []struct {
		name string
		e    sessions.EquipmentState
		r    SensorReport
		want string
	}{
		{
			name: "known",
			e:    sessions.EquipmentState{ID: "bag", Active: true, Events: 4},
			r:    SensorReport{Vibration: true, Battery: 97, LinkQuality: 120},
			want: `{"vibration":true,"active":true,"events":4,"battery":97,"linkquality":120}`,
		},
		{
			name: "unknown",
			e:    sessions.EquipmentState{ID: "bag"},
			r:    SensorReport{Battery: -1, LinkQuality: -1},
			want: `{"vibration":false,"active":false,"events":0,"battery":null,"linkquality":null}`,
		},
		{
			name: "out of range",
			e:    sessions.EquipmentState{ID: "bag", Events: 1},
			r:    SensorReport{Battery: 150, LinkQuality: 256},
			want: `{"vibration":false,"active":false,"events":1,"battery":null,"linkquality":null}`,
		},
	}
	for _, tt := range tests {
		if got := string(EquipmentStatePayload(tt.e, tt.r)); got != tt.want {
			t.Errorf("%s: EquipmentStatePayload = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestEntityFieldsExistInState checks that every entity reads a key that its
// owner's state payload really has, so a renamed JSON key cannot leave an
// entity reading nothing.
func TestEntityFieldsExistInState(t *testing.T) {
	samples := map[OwnerKind][]byte{
		OwnerBridge:      SessionStatePayload(sessions.Snapshot{}),
		OwnerParticipant: ParticipantStatePayload(sessions.ParticipantState{}),
		OwnerDevice:      DeviceStatePayload(DeviceState{Battery: -1}),
		OwnerEquipment:   EquipmentStatePayload(sessions.EquipmentState{}, SensorReport{}),
	}
	for _, e := range entities {
		if e.source != fromState {
			if e.field != "" {
				t.Errorf("%s %s reads no state but has field %q", e.owner, e.key, e.field)
			}
			continue
		}
		var state map[string]any
		if err := json.Unmarshal(samples[e.owner], &state); err != nil {
			t.Fatalf("decoding the %s state sample failed: %v", e.owner, err)
		}
		if _, ok := state[e.field]; !ok {
			t.Errorf("%s %s reads field %q, which the %s state payload lacks: %s",
				e.owner, e.key, e.field, e.owner, samples[e.owner])
		}
	}
}
