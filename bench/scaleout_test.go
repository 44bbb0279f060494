package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/discovery"
	"github.com/fitbridge/fitbridge/internal/testbroker"
)

// TestTwoRoomsOneBroker runs one instance per room on one broker and checks
// that each handles its own room's readings and nothing of the other's.
func TestTwoRoomsOneBroker(t *testing.T) {
	mosq := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rooms := []struct {
		id  string
		bpm int
	}{{"room_a", 101}, {"room_b", 151}}
	const devices, count = 3, 300

	var services []*Service
	for _, room := range rooms {
		svc, err := StartService(ctx, ServiceOptions{BrokerURL: mosq.URL(), Devices: devices,
			TopicPrefix: room.id + "/hr/", InstanceID: room.id,
			DataDir: filepath.Join(t.TempDir(), room.id)}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		services = append(services, svc)
	}
	a, b := services[0].Config, services[1].Config
	if a.BaseTopic == b.BaseTopic || a.Broker.ClientID == b.Broker.ClientID {
		t.Fatalf("rooms share base topic %q or client id %q", a.BaseTopic, a.Broker.ClientID)
	}

	pub, err := dialMQTT(ctx, mosq.URL(), "rooms-pub", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeMQTT(pub)
	for _, room := range rooms {
		l := Load{TopicPrefix: room.id + "/hr/", Devices: devices, Count: count, BPM: room.bpm}
		if _, _, err := l.Publish(ctx, pub, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	for i, svc := range services {
		room := rooms[i]
		if _, err := svc.waitProcessed(ctx, count); err != nil {
			t.Fatalf("%s: %v", room.id, err)
		}
		// Give a stray message from the other room time to arrive.
		time.Sleep(100 * time.Millisecond)
		if got := svc.Bridge.Processed(); got != count {
			t.Errorf("%s handled %d messages, want its own %d", room.id, got, count)
		}
		if got := svc.Bridge.Dropped(); got != 0 {
			t.Errorf("%s dropped %d messages", room.id, got)
		}
		snap, err := svc.Bridge.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snap.Participants) != devices {
			t.Errorf("%s has %d participants, want %d", room.id, len(snap.Participants), devices)
		}
		for _, p := range snap.Participants {
			if p.Guest {
				t.Errorf("%s has guest %s: a strap of the other room reached it", room.id, p.ID)
			}
			if p.HeartRate != float64(room.bpm) {
				t.Errorf("%s participant %s at %v bpm, want the room's %d", room.id, p.ID,
					p.HeartRate, room.bpm)
			}
		}
		state := discovery.TopicsFor(svc.Config).ParticipantState("p000")
		if !strings.HasPrefix(state, svc.Config.BaseTopic+"/") {
			t.Errorf("%s publishes participant state on %s, outside its base topic %s",
				room.id, state, svc.Config.BaseTopic)
		}
	}
}
