package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestZonesFor(t *testing.T) {
	cfg := validConfig()
	cfg.Participants[0].Zones = map[string]float64{"active": 80, "warm": 105}

	alex := cfg.ZonesFor("alex")
	wantMins := []float64{0, 80, 105, 140, 160}
	gotMins := make([]float64, len(alex))
	for i, z := range alex {
		gotMins[i] = z.Min
	}
	if !reflect.DeepEqual(gotMins, wantMins) {
		t.Errorf("ZonesFor(alex) mins = %v, want %v", gotMins, wantMins)
	}
	if alex[1].Coins != 1 || alex[1].Name != "Active" {
		t.Errorf("ZonesFor(alex)[1] = %+v, want coins and name of the global zone", alex[1])
	}

	for _, id := range []string{"sam", "guest-10009", "nobody", ""} {
		if got := cfg.ZonesFor(id); !reflect.DeepEqual(got, DefaultZones()) {
			t.Errorf("ZonesFor(%q) = %+v, want the global zones", id, got)
		}
	}
}

func TestZonesForReturnsCopy(t *testing.T) {
	cfg := validConfig()
	zones := cfg.ZonesFor("alex")
	zones[0].Min = 999
	zones = cfg.ZonesFor("sam")
	zones[1].Min = 999
	if !reflect.DeepEqual(cfg.Zones, DefaultZones()) {
		t.Errorf("changing the result changed the configuration: %+v", cfg.Zones)
	}
}

func TestZonesForPercentOfMaxHeartRate(t *testing.T) {
	cfg := Default()
	cfg.ZoneUnit = ZoneUnitPercent
	cfg.Zones = []Zone{
		{ID: "z1", Min: 50}, {ID: "z2", Min: 60}, {ID: "z3", Min: 70},
		{ID: "z4", Min: 80}, {ID: "z5", Min: 90},
	}
	cfg.Participants = []Participant{
		{ID: "a", Devices: []string{"1"}, MaxHeartRate: 190},
		{ID: "b", Devices: []string{"2"}, MaxHeartRate: 187},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	wantA := []float64{95, 114, 133, 152, 171}
	for i, z := range cfg.ZonesFor("a") {
		if z.Min != wantA[i] {
			t.Errorf("a: zone %s starts at %v bpm, want %v", z.ID, z.Min, wantA[i])
		}
	}
	if got := cfg.ZonesFor("b")[1].Min; got != 112 {
		t.Errorf("60%% of 187 = %v bpm, want 112 (112.2 rounded)", got)
	}
	if got := cfg.ZonesFor("guest-x")[0].Min; got != 95 {
		t.Errorf("guest zone 1 = %v bpm, want 95 from default_max_heart_rate 190", got)
	}
}

func TestPercentZonesRejectMaxHeartRateZero(t *testing.T) {
	cfg := Default()
	cfg.ZoneUnit = ZoneUnitPercent
	cfg.Zones = []Zone{{ID: "z1", Min: 0}, {ID: "z2", Min: 60}}
	cfg.DefaultMaxHeartRate = 0
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "default_max_heart_rate: invalid value 0") {
		t.Fatalf("error = %v, want default_max_heart_rate rejected", err)
	}
}
