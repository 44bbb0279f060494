package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Run-length encoded series are JSON lists whose items are either a value (a run of one) or
// a [value, count] pair for a run of count equal values. null is a missing value, a dropout.

// column is a run-length encoded series built one value at a time. Its memory grows with
// the number of runs, not of values, so a long session with steady values stays small.
type column[T comparable] struct {
	runs []run[T]
	len  int
}

// run is count equal values; null marks a run of missing values.
type run[T comparable] struct {
	value T
	null  bool
	count int
}

// add appends one value; nil is a missing value.
func (c *column[T]) add(v *T) {
	c.len++
	if n := len(c.runs); n > 0 {
		last := &c.runs[n-1]
		if (v == nil && last.null) || (v != nil && !last.null && last.value == *v) {
			last.count++
			return
		}
	}
	r := run[T]{null: v == nil, count: 1}
	if v != nil {
		r.value = *v
	}
	c.runs = append(c.runs, r)
}

// padTo appends missing values until the column holds n values.
func (c *column[T]) padTo(n int) {
	if missing := n - c.len; missing > 0 {
		if last := len(c.runs) - 1; last >= 0 && c.runs[last].null {
			c.runs[last].count += missing
		} else {
			c.runs = append(c.runs, run[T]{null: true, count: missing})
		}
		c.len = n
	}
}

// values expands the column into one pointer per value, nil for a missing one.
func (c *column[T]) values() []*T {
	out := make([]*T, 0, c.len)
	for _, r := range c.runs {
		var v *T
		if !r.null {
			value := r.value
			v = &value
		}
		for range r.count {
			out = append(out, v)
		}
	}
	return out
}

// columnOf returns a column holding values.
func columnOf[T comparable](values []*T) column[T] {
	var c column[T]
	for _, v := range values {
		c.add(v)
	}
	return c
}

// appendJSON appends the column's run-length encoding to buf.
func (c *column[T]) appendJSON(buf []byte) []byte {
	buf = append(buf, '[')
	for i, r := range c.runs {
		if i > 0 {
			buf = append(buf, ',')
		}
		if r.count > 1 {
			buf = append(buf, '[')
		}
		if r.null {
			buf = append(buf, "null"...)
		} else {
			buf = appendValue(buf, r.value)
		}
		if r.count > 1 {
			buf = append(buf, ',')
			buf = strconv.AppendInt(buf, int64(r.count), 10)
			buf = append(buf, ']')
		}
	}
	return append(buf, ']')
}

// appendValue appends v as encoding/json would write it.
func appendValue(buf []byte, v any) []byte {
	switch x := v.(type) {
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case bool:
		return strconv.AppendBool(buf, x)
	case float64:
		// encoding/json switches to exponent notation outside this range.
		if a := math.Abs(x); a == 0 || (a >= 1e-6 && a < 1e21) {
			return strconv.AppendFloat(buf, x, 'f', -1, 64)
		}
	}
	data, err := json.Marshal(v)
	if err != nil {
		// Only NaN and infinities fail, and the timeline holds neither: the engine and
		// the decoder reject them. null keeps the file valid should one slip through.
		return append(buf, "null"...)
	}
	return append(buf, data...)
}

// EncodeRLE encodes a series in the run-length form; a nil element is null.
func EncodeRLE[T comparable](series []*T) json.RawMessage {
	c := columnOf(series)
	return c.appendJSON(nil)
}

// DecodeRLE decodes a run-length encoded series.
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
