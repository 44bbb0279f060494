package store

import (
	"encoding/json"
	"fmt"
)

// EncodeRLE encodes a series as a JSON list whose items are either a value
// (a run of one) or a [value, count] pair for a run of count equal values.
// A nil element is JSON null, a dropout.
func EncodeRLE[T comparable](series []*T) []any {
	var out []any
	for i := 0; i < len(series); {
		j := i + 1
		for j < len(series) && equalPtr(series[i], series[j]) {
			j++
		}
		var v any
		if series[i] != nil {
			v = *series[i]
		}
		if n := j - i; n > 1 {
			out = append(out, []any{v, n})
		} else {
			out = append(out, v)
		}
		i = j
	}
	if out == nil {
		out = []any{}
	}
	return out
}

func equalPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// DecodeRLE decodes what EncodeRLE produced, after a JSON round trip.
func DecodeRLE[T any](data json.RawMessage) ([]*T, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, fmt.Errorf("decode run-length series: %w", err)
	}
	var out []*T
	for i, item := range items {
		var run []json.RawMessage
		if len(item) > 0 && item[0] == '[' {
			if err := json.Unmarshal(item, &run); err != nil || len(run) != 2 {
				return nil, fmt.Errorf("decode run-length series: item %d is not [value, count]", i)
			}
		} else {
			run = []json.RawMessage{item, json.RawMessage("1")}
		}
		var count int
		if err := json.Unmarshal(run[1], &count); err != nil || count < 1 {
			return nil, fmt.Errorf("decode run-length series: item %d has an invalid count", i)
		}
		var value *T
		if err := json.Unmarshal(run[0], &value); err != nil {
			return nil, fmt.Errorf("decode run-length series: item %d: %w", i, err)
		}
		for range count {
			out = append(out, value)
		}
	}
	return out, nil
}
