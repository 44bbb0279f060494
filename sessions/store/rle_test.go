package store_test

import (
	"encoding/json"
	"testing"

	"pgregory.net/rapid"

	"github.com/fitbridge/fitbridge/sessions/store"
)

// TestRLERoundTrip checks that decoding an encoded series gives the series back, for
// random series with runs and missing values.
func TestRLERoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		series := rapid.SliceOf(rapid.Custom(func(t *rapid.T) *int {
			if rapid.IntRange(0, 3).Draw(t, "missing") == 0 {
				return nil
			}
			v := rapid.IntRange(-2, 2).Draw(t, "value")
			return &v
		})).Draw(t, "series")
		got, err := store.DecodeRLE[int](store.EncodeRLE(series))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(series) {
			t.Fatalf("decoded %d values, want %d", len(got), len(series))
		}
		for i := range series {
			if (got[i] == nil) != (series[i] == nil) || (got[i] != nil && *got[i] != *series[i]) {
				t.Fatalf("value %d differs after the round trip", i)
			}
		}
	})
}

// TestRLEFloatsMatchJSON checks that heart rates are written as encoding/json writes
// them, including the values where it switches to exponent notation.
func TestRLEFloatsMatchJSON(t *testing.T) {
	for _, v := range []float64{0, 128, 127.5, -3, 1e-7, 1e21, 123456789.125} {
		want, err := json.Marshal([]float64{v})
		if err != nil {
			t.Fatal(err)
		}
		if got := store.EncodeRLE([]*float64{&v}); string(got) != string(want) {
			t.Errorf("%v encodes as %s, want %s", v, got, want)
		}
	}
}
