package charts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/fitbridge/fitbridge/sessions"
)

// Limits of GET /api/v1/sessions.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

// APIHandler returns the handler of the JSON API. Mount it at "/api/v1/"; it serves
//
//	GET /api/v1/session          the current session
//	GET /api/v1/sessions         the saved sessions' summaries, newest first
//	GET /api/v1/sessions/{id}    one session's summary and timeline, or a downsampled range
//
// docs/chart-feed.md describes the fields.
func (h *Hub) APIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/session", h.serveSession)
	mux.HandleFunc("GET /api/v1/sessions", h.serveSessionList)
	mux.HandleFunc("GET /api/v1/sessions/{id}", h.serveSessionDetail)
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found",
			fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h.authorize(w, r) {
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
}

type currentSessionResponse struct {
	Epoch         string            `json:"epoch"`
	ServerVersion string            `json:"server_version"`
	Seq           map[string]uint64 `json:"seq"`
	Session       *sessionState     `json:"session"`
}

func (h *Hub) serveSession(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	resp := currentSessionResponse{
		Epoch:         h.epoch,
		ServerVersion: h.opts.Version,
		Seq:           make(map[string]uint64, len(h.topics)),
	}
	for name, log := range h.topics {
		resp.Seq[name] = log.seq
	}
	if h.session != nil {
		state := h.session.clone()
		resp.Session = &state
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func (h *Hub) serveSessionList(w http.ResponseWriter, r *http.Request) {
	limit := defaultListLimit
	if raw := r.URL.Query().Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxListLimit {
			writeJSONError(w, http.StatusBadRequest, ErrorInvalidRequest,
				fmt.Sprintf("limit %q: want a whole number from 1 to %d", raw, maxListLimit))
			return
		}
		limit = n
	}
	if h.opts.Store == nil {
		writeJSONError(w, http.StatusServiceUnavailable, ErrorNoSavedSessions,
			"this server keeps no saved sessions")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), storeTimeout)
	defer cancel()
	list, err := h.opts.Store.List(ctx, limit)
	if err != nil {
		h.log.Error("chart saved session list failed", "error", err)
		writeJSONError(w, http.StatusInternalServerError, ErrorStoreFailed,
			"listing the saved sessions failed; see the server log")
		return
	}
	if list == nil {
		list = []sessions.Summary{}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions []sessions.Summary `json:"sessions"`
	}{list[:min(len(list), limit)]})
}

type sessionDetailResponse struct {
	Live bool `json:"live"`
	// Summary is nil for a session that is still running.
	Summary  *sessions.Summary `json:"summary"`
	Timeline *Timeline         `json:"timeline,omitempty"`
	Range    json.RawMessage   `json:"range,omitempty"`
}

// serveSessionDetail returns the session's summary and its whole timeline, or with
// max_points (and optional from_ms, to_ms) the downsampled range in the form of a
// range_result message.
func (h *Hub) serveSessionDetail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	query := r.URL.Query()
	var req *rangeRequest
	if query.Has("max_points") || query.Has("from_ms") || query.Has("to_ms") {
		parsed, err := rangeRequestOf(query, id)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, ErrorInvalidRequest, err.Error())
			return
		}
		req = &parsed
	}

	if req != nil {
		if err := h.checkRange(*req); err != nil {
			writeRequestError(w, err)
			return
		}
	}

	var resp sessionDetailResponse
	var tl *Timeline
	h.mu.Lock()
	if h.session != nil && h.session.ID == id {
		resp.Live = true
		if h.lastSummary != nil && h.lastSummary.SessionID == id {
			summary := *h.lastSummary
			resp.Summary = &summary
		}
		live := timelineOf(h.window, id)
		tl = &live
	}
	h.mu.Unlock()

	if !resp.Live {
		saved, err := h.loadSaved(id)
		if err != nil {
			writeRequestError(w, err)
			return
		}
		resp.Summary = &saved.Summary
		tl = saved.Timeline
	}
	if req == nil {
		resp.Timeline = tl
		writeJSON(w, http.StatusOK, resp)
		return
	}
	if tl == nil {
		writeJSONError(w, http.StatusNotFound, ErrorUnknownSession,
			fmt.Sprintf("saved session %q has no timeline", id))
		return
	}
	data, err := h.rangeReply(*req, *tl, resp.Live)
	if err != nil {
		writeRequestError(w, err)
		return
	}
	resp.Range = data
	writeJSON(w, http.StatusOK, resp)
}

// rangeRequestOf reads a range request from the query of GET /api/v1/sessions/{id}.
func rangeRequestOf(query map[string][]string, id string) (rangeRequest, error) {
	req := rangeRequest{Type: TypeRange, Topic: TopicFitness, SessionID: id, MaxPoints: math.MaxInt}
	get := func(name string) string {
		if values := query[name]; len(values) > 0 {
			return values[0]
		}
		return ""
	}
	if topic := get("topic"); topic != "" {
		req.Topic = topic
	}
	for _, p := range []struct {
		name   string
		target **int64
	}{{"from_ms", &req.FromMS}, {"to_ms", &req.ToMS}} {
		raw := get(p.name)
		if raw == "" {
			continue
		}
		value, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return req, fmt.Errorf("%s %q: want Unix time in ms", p.name, raw)
		}
		*p.target = &value
	}
	if raw := get("max_points"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil {
			return req, fmt.Errorf("max_points %q: want a whole number of 1 or more", raw)
		}
		req.MaxPoints = n
	}
	return req, nil
}

// writeRequestError responds with the HTTP status that matches a request error's code.
func writeRequestError(w http.ResponseWriter, err error) {
	var re *requestError
	if !errors.As(err, &re) {
		writeJSONError(w, http.StatusBadRequest, ErrorInvalidRequest, err.Error())
		return
	}
	status := http.StatusBadRequest
	switch re.code {
	case ErrorUnknownSession:
		status = http.StatusNotFound
	case ErrorNoSavedSessions:
		status = http.StatusServiceUnavailable
	case ErrorStoreFailed:
		status = http.StatusInternalServerError
	}
	writeJSONError(w, status, re.code, re.message)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the response failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeJSONError(w http.ResponseWriter, status int, code, message string) {
	type body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, status, struct {
		Error body `json:"error"`
	}{body{code, message}})
}
