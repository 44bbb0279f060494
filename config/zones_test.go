package config

import (
	"reflect"
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
