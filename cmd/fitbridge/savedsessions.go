package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"

	"github.com/fitbridge/fitbridge/charts"
	"github.com/fitbridge/fitbridge/sessions"
	"github.com/fitbridge/fitbridge/sessions/store"
)

// savedSessions serves the saved sessions of a store to the chart feed's
// API and range queries. The store's List and Load only read files, so
// they are safe to call from the hub's goroutines.
type savedSessions struct {
	store *store.Store
}

func (s savedSessions) List(_ context.Context, limit int) ([]sessions.Summary, error) {
	list, err := s.store.List()
	if err != nil {
		return nil, err
	}
	if limit >= 0 && len(list) > limit {
		list = list[:limit]
	}
	return list, nil
}

func (s savedSessions) Load(_ context.Context, id string) (charts.SavedSession, error) {
	saved, err := s.store.Load(id)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, store.ErrInvalidID) {
		return charts.SavedSession{}, fmt.Errorf("%w: %s", charts.ErrSessionNotFound, id)
	}
	if err != nil {
		return charts.SavedSession{}, err
	}
	tl, err := chartTimeline(saved)
	if err != nil {
		return charts.SavedSession{}, fmt.Errorf("session %s: %w", id, err)
	}
	return charts.SavedSession{Summary: saved.Summary, Timeline: tl}, nil
}

// chartTimeline decodes a saved session's run-length encoded series into
// the chart feed's timeline.
func chartTimeline(saved *store.Saved) (*charts.Timeline, error) {
	tl := &charts.Timeline{
		SessionID:  saved.SessionID,
		IntervalMS: saved.Timeline.IntervalMS,
		StartMS:    saved.StartedAt.UnixMilli(),
		Length:     saved.Timeline.Ticks,
	}
	names := map[string]string{}
	for _, p := range saved.Participants {
		names[p.ID] = p.Name
	}
	ids := make([]string, 0, len(saved.Timeline.Participants))
	for id := range saved.Timeline.Participants {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		series := saved.Timeline.Participants[id]
		hr, err := store.DecodeRLE[float64](series.HeartRate)
		if err != nil {
			return nil, err
		}
		zone, err := store.DecodeRLE[string](series.Zone)
		if err != nil {
			return nil, err
		}
		coins, err := store.DecodeRLE[int](series.Coins)
		if err != nil {
			return nil, err
		}
		tl.Participants = append(tl.Participants, charts.ParticipantTimeline{
			ID: id, Name: names[id], HeartRate: hr, Zone: zone, Coins: coins,
		})
	}
	equipment := make([]string, 0, len(saved.Timeline.Equipment))
	for id := range saved.Timeline.Equipment {
		equipment = append(equipment, id)
	}
	sort.Strings(equipment)
	for _, id := range equipment {
		series := saved.Timeline.Equipment[id]
		active, err := store.DecodeRLE[bool](series.Active)
		if err != nil {
			return nil, err
		}
		events, err := store.DecodeRLE[int](series.Events)
		if err != nil {
			return nil, err
		}
		tl.Equipment = append(tl.Equipment, charts.EquipmentTimeline{ID: id, Active: active, Events: events})
	}
	return tl, nil
}
