package charts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fitbridge/fitbridge/sessions"
)

// memoryStore is a SessionStore over a map, standing in for the saved-session files.
type memoryStore struct {
	mu    sync.Mutex
	saved map[string]SavedSession
	fail  error
}

func (s *memoryStore) List(_ context.Context, limit int) ([]sessions.Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return nil, s.fail
	}
	var out []sessions.Summary
	for _, saved := range s.saved {
		out = append(out, saved.Summary)
	}
	slices.SortFunc(out, func(a, b sessions.Summary) int { return b.StartedAt.Compare(a.StartedAt) })
	return out[:min(len(out), limit)], nil
}

func (s *memoryStore) Load(_ context.Context, id string) (SavedSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return SavedSession{}, s.fail
	}
	saved, ok := s.saved[id]
	if !ok {
		return SavedSession{}, fmt.Errorf("load %s: %w", id, ErrSessionNotFound)
	}
	return saved, nil
}

// savedSession returns a saved session of ticks ticks in which p1's heart rate is 100+i.
func savedSession(id string, ticks int) SavedSession {
	p1 := ParticipantTimeline{ID: "p1", Name: "Name p1"}
	for i := range ticks {
		bpm := 100 + float64(i)
		coins := i
		zone := "active"
		p1.HeartRate = append(p1.HeartRate, &bpm)
		p1.Zone = append(p1.Zone, &zone)
		p1.Coins = append(p1.Coins, &coins)
	}
	return SavedSession{
		Summary: sessions.Summary{SessionID: id, StartedAt: testEpoch, CoinIntervalMS: testIntervalMS},
		Timeline: &Timeline{
			SessionID: id, IntervalMS: testIntervalMS, StartMS: testEpoch.UnixMilli(),
			Length: ticks, Participants: []ParticipantTimeline{p1},
		},
	}
}

func getJSON(t *testing.T, feed *feedServer, path string, header http.Header, v any) int {
	t.Helper()
	resp, body := getPage(t, feed, path, header)
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("GET %s: Content-Type %q, want application/json", path, got)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(body), v); err != nil {
			t.Fatalf("GET %s: decode %s: %v", path, body, err)
		}
	}
	return resp.StatusCode
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestAPICurrentSession(t *testing.T) {
	feed := startFeed(t, Options{Version: "9.9"}, nil)
	var before struct {
		Epoch         string            `json:"epoch"`
		ServerVersion string            `json:"server_version"`
		Seq           map[string]uint64 `json:"seq"`
		Session       *sessionView      `json:"session"`
	}
	if status := getJSON(t, feed, "/api/v1/session", nil, &before); status != http.StatusOK {
		t.Fatalf("GET /api/v1/session: status %d", status)
	}
	if before.Session != nil || before.Epoch != feed.hub.Epoch() || before.ServerVersion != "9.9" {
		t.Errorf("before any session: %+v, want a null session and the hub's epoch", before)
	}

	feed.hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	broadcastTicks(feed, 0, 3)
	after := before
	getJSON(t, feed, "/api/v1/session", nil, &after)
	s := after.Session
	if s == nil || s.ID != "s1" || !s.Running || s.TickIndex == nil || *s.TickIndex != 2 {
		t.Fatalf("session = %s, want s1 running at tick 2", describe(s))
	}
	if s.TotalCoins != 6 || len(s.Participants) != 2 {
		t.Errorf("total_coins %d with %d participants, want 6 with 2", s.TotalCoins, len(s.Participants))
	}
	if after.Seq[TopicFitness] != 4 {
		t.Errorf("seq = %v, want fitness 4", after.Seq)
	}
}

func TestAPISavedSessions(t *testing.T) {
	store := &memoryStore{saved: map[string]SavedSession{
		"old": savedSession("old", 40),
		"new": func() SavedSession {
			s := savedSession("new", 3)
			s.Summary.StartedAt = testEpoch.Add(time.Hour)
			return s
		}(),
	}}
	feed := startFeed(t, Options{Store: store}, nil)

	var list struct {
		Sessions []sessions.Summary `json:"sessions"`
	}
	if status := getJSON(t, feed, "/api/v1/sessions", nil, &list); status != http.StatusOK {
		t.Fatalf("GET /api/v1/sessions: status %d", status)
	}
	if len(list.Sessions) != 2 || list.Sessions[0].SessionID != "new" {
		t.Errorf("sessions = %s, want new then old", describe(list.Sessions))
	}
	getJSON(t, feed, "/api/v1/sessions?limit=1", nil, &list)
	if len(list.Sessions) != 1 {
		t.Errorf("limit=1 returned %d sessions", len(list.Sessions))
	}

	var detail struct {
		Live     bool              `json:"live"`
		Summary  *sessions.Summary `json:"summary"`
		Timeline *Timeline         `json:"timeline"`
		Range    *rangeResultView  `json:"range"`
	}
	if status := getJSON(t, feed, "/api/v1/sessions/old", nil, &detail); status != http.StatusOK {
		t.Fatalf("GET /api/v1/sessions/old: status %d", status)
	}
	if detail.Live || detail.Summary == nil || detail.Timeline == nil || detail.Timeline.Length != 40 {
		t.Errorf("detail = %s, want the saved summary and a 40-tick timeline", describe(detail))
	}
	detail.Timeline = nil
	path := fmt.Sprintf("/api/v1/sessions/old?max_points=10&from_ms=%d", tickStartMS(20))
	if status := getJSON(t, feed, path, nil, &detail); status != http.StatusOK {
		t.Fatalf("GET %s: status %d", path, status)
	}
	if detail.Range == nil || detail.Timeline != nil {
		t.Fatalf("detail with max_points = %s, want a range and no timeline", describe(detail))
	}
	if detail.Range.TicksPerBucket != 2 || len(detail.Range.Participants) != 1 ||
		len(detail.Range.Participants[0].HeartRateMax) != 10 {
		t.Errorf("range = %s, want 10 buckets of 2 ticks", describe(detail.Range))
	}

	cases := []struct {
		path   string
		status int
		code   string
	}{
		{"/api/v1/sessions/nope", http.StatusNotFound, ErrorUnknownSession},
		{"/api/v1/sessions?limit=0", http.StatusBadRequest, ErrorInvalidRequest},
		{"/api/v1/sessions/old?max_points=x", http.StatusBadRequest, ErrorInvalidRequest},
		{"/api/v1/sessions/old?max_points=0", http.StatusBadRequest, ErrorInvalidRequest},
		{"/api/v1/sessions/old?topic=session&max_points=5", http.StatusBadRequest, ErrorInvalidRequest},
		{"/api/v1/nothing", http.StatusNotFound, "not_found"},
	}
	for _, tc := range cases {
		var body apiError
		if status := getJSON(t, feed, tc.path, nil, &body); status != tc.status || body.Error.Code != tc.code {
			t.Errorf("GET %s: status %d code %q, want %d %q", tc.path, status, body.Error.Code, tc.status, tc.code)
		}
	}

	store.mu.Lock()
	store.fail = errors.New("disk on fire")
	store.mu.Unlock()
	var body apiError
	if status := getJSON(t, feed, "/api/v1/sessions", nil, &body); status != http.StatusInternalServerError {
		t.Errorf("GET /api/v1/sessions with a failing store: status %d, want 500", status)
	}
	if strings.Contains(body.Error.Message, "fire") {
		t.Errorf("error message %q shows the store's error to the client", body.Error.Message)
	}
}

func TestAPILiveSessionDetail(t *testing.T) {
	feed := startFeed(t, Options{LiveWindowTicks: 20}, nil)
	feed.hub.SessionStarted(startSnapshot("s1", "p1", "p2"))
	broadcastTicks(feed, 0, 12)

	var detail struct {
		Live     bool              `json:"live"`
		Summary  *sessions.Summary `json:"summary"`
		Timeline *Timeline         `json:"timeline"`
	}
	if status := getJSON(t, feed, "/api/v1/sessions/s1", nil, &detail); status != http.StatusOK {
		t.Fatalf("GET /api/v1/sessions/s1: status %d", status)
	}
	if !detail.Live || detail.Summary != nil || detail.Timeline == nil || detail.Timeline.Length != 12 {
		t.Fatalf("live detail = %s, want live, no summary yet, 12 ticks", describe(detail))
	}
	p2 := detail.Timeline.Participants[1]
	if p2.ID != "p2" || p2.HeartRate[7] != nil || p2.HeartRate[9] == nil {
		t.Errorf("p2 timeline = %s, want a gap at ticks 6 to 8", describe(p2.HeartRate))
	}

	feed.hub.SessionEnded(sessions.Summary{SessionID: "s1", EndReason: sessions.EndRequested})
	getJSON(t, feed, "/api/v1/sessions/s1", nil, &detail)
	if detail.Summary == nil || detail.Summary.EndReason != sessions.EndRequested {
		t.Errorf("ended live session summary = %s, want the end summary", describe(detail.Summary))
	}

	var body apiError
	if status := getJSON(t, feed, "/api/v1/sessions", nil, &body); status != http.StatusServiceUnavailable ||
		body.Error.Code != ErrorNoSavedSessions {
		t.Errorf("GET /api/v1/sessions without a store: status %d code %q, want 503 %q",
			status, body.Error.Code, ErrorNoSavedSessions)
	}
}
