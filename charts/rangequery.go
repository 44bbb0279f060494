package charts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// storeTimeout bounds a saved-session load made for a range request.
const storeTimeout = 10 * time.Second

// handleRequest handles one client frame and returns the encoded reply.
func (h *Hub) handleRequest(data []byte) []byte {
	var head struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return errorReply("", ErrorInvalidRequest, "invalid JSON: "+err.Error())
	}
	switch head.Type {
	case TypeRange:
		var req rangeRequest
		if err := json.Unmarshal(data, &req); err != nil {
			return errorReply(head.ID, ErrorInvalidRequest, "invalid range request: "+err.Error())
		}
		reply, err := h.answerRange(req)
		if err != nil {
			var re *requestError
			if errors.As(err, &re) {
				return errorReply(req.ID, re.code, re.message)
			}
			return errorReply(req.ID, ErrorInvalidRequest, err.Error())
		}
		return reply
	default:
		return errorReply(head.ID, ErrorInvalidRequest,
			fmt.Sprintf("unknown request type %q (allowed: %s)", head.Type, TypeRange))
	}
}

// requestError is a failed request with its protocol error code.
type requestError struct {
	code    string
	message string
}

func (e *requestError) Error() string { return e.code + ": " + e.message }

func invalidRequest(format string, args ...any) error {
	return &requestError{code: ErrorInvalidRequest, message: fmt.Sprintf(format, args...)}
}

// answerRange downsamples the requested range of the live window, or of a saved session
// when session_id names another session, and returns the encoded range_result.
func (h *Hub) answerRange(req rangeRequest) ([]byte, error) {
	if err := h.checkRange(req); err != nil {
		return nil, err
	}
	tl, live, err := h.timelineFor(req.SessionID)
	if err != nil {
		return nil, err
	}
	return h.rangeReply(req, tl, live)
}

// checkRange validates the fields of a range request that do not depend on the session.
func (h *Hub) checkRange(req rangeRequest) error {
	if req.Topic != TopicFitness && req.Topic != TopicEquipment {
		return invalidRequest("topic %q: range queries support %s and %s",
			req.Topic, TopicFitness, TopicEquipment)
	}
	if req.MaxPoints < 1 {
		return invalidRequest("max_points %d: must be 1 or more", req.MaxPoints)
	}
	if req.FromMS != nil && req.ToMS != nil && *req.FromMS > *req.ToMS {
		return invalidRequest("from_ms %d is after to_ms %d", *req.FromMS, *req.ToMS)
	}
	return nil
}

// rangeReply downsamples tl for a checked request and encodes the range_result. An absent
// from_ms or to_ms leaves that end of the range open, and max_points above MaxRangePoints
// is lowered to it.
func (h *Hub) rangeReply(req rangeRequest, tl Timeline, live bool) ([]byte, error) {
	maxPoints := min(req.MaxPoints, h.opts.MaxRangePoints)
	fromMS, toMS := int64(math.MinInt64), int64(math.MaxInt64)
	if req.FromMS != nil {
		fromMS = *req.FromMS
	}
	if req.ToMS != nil {
		toMS = *req.ToMS
	}
	replyFromMS, replyToMS := replyBounds(tl, req.FromMS, req.ToMS)
	result := rangeResultMessage{
		Type:           TypeRangeResult,
		V:              ProtocolVersion,
		ID:             req.ID,
		Topic:          req.Topic,
		SessionID:      tl.SessionID,
		Live:           live,
		FromMS:         replyFromMS,
		ToMS:           replyToMS,
		IntervalMS:     tl.IntervalMS,
		TickMS:         tl.IntervalMS,
		TicksPerBucket: 1,
	}
	var people []participantBins
	var gear []equipmentBins
	plan, err := planBuckets(tl, fromMS, toMS, maxPoints)
	switch {
	case errors.Is(err, errEmptyRange):
	case err != nil:
		return nil, invalidRequest("%v", err)
	default:
		people, gear = downsample(tl, plan)
		result.TicksPerBucket = plan.ticksPerBucket
		result.IntervalMS = int64(plan.ticksPerBucket) * tl.IntervalMS
		firstIndex := plan.firstBucket * plan.ticksPerBucket
		startMS := tl.StartMS + int64(firstIndex-tl.FirstIndex)*tl.IntervalMS
		result.FirstIndex = &firstIndex
		result.StartMS = &startMS
	}
	if req.Topic == TopicFitness {
		if people == nil {
			people = []participantBins{}
		}
		return json.Marshal(struct {
			rangeResultMessage
			Participants []participantBins `json:"participants"`
		}{result, people})
	}
	if gear == nil {
		gear = []equipmentBins{}
	}
	return json.Marshal(struct {
		rangeResultMessage
		Equipment []equipmentBins `json:"equipment"`
	}{result, gear})
}

// replyBounds returns the from_ms and to_ms of a range_result: the requested ends narrowed
// to the time tl covers, from the start of its first tick to the last millisecond of its
// last tick. An open end thus never reaches the reply as math.MinInt64 or MaxInt64, which
// JavaScript numbers cannot represent exactly. A range that meets no tick keeps its requested
// ends, and an open end takes the value of the other end, or tl.StartMS when both are open.
func replyBounds(tl Timeline, fromMS, toMS *int64) (int64, int64) {
	if tl.Length > 0 && tl.IntervalMS > 0 {
		firstMS := tl.StartMS
		lastMS := tl.StartMS + int64(tl.Length)*tl.IntervalMS - 1
		from, to := firstMS, lastMS
		if fromMS != nil {
			from = max(*fromMS, firstMS)
		}
		if toMS != nil {
			to = min(*toMS, lastMS)
		}
		if from <= to {
			return from, to
		}
	}
	switch {
	case fromMS != nil && toMS != nil:
		return *fromMS, *toMS
	case fromMS != nil:
		return *fromMS, *fromMS
	case toMS != nil:
		return *toMS, *toMS
	default:
		return tl.StartMS, tl.StartMS
	}
}

// timelineFor returns the timeline of the session with id, from the live window when id is
// empty or names the session in it, else from the store. live reports which.
func (h *Hub) timelineFor(id string) (tl Timeline, live bool, err error) {
	h.mu.Lock()
	if h.session != nil && (id == "" || id == h.session.ID) {
		tl = timelineOf(h.window, h.session.ID)
		h.mu.Unlock()
		return tl, true, nil
	}
	h.mu.Unlock()
	if id == "" {
		return tl, false, &requestError{code: ErrorUnknownSession,
			message: "no session has started yet; name a saved session in session_id"}
	}
	saved, err := h.loadSaved(id)
	if err != nil {
		return tl, false, err
	}
	if saved.Timeline == nil {
		return tl, false, &requestError{code: ErrorUnknownSession,
			message: fmt.Sprintf("saved session %q has no timeline", id)}
	}
	return *saved.Timeline, false, nil
}

// loadSaved loads a saved session and converts the store's errors to request errors.
func (h *Hub) loadSaved(id string) (SavedSession, error) {
	if h.opts.Store == nil {
		return SavedSession{}, &requestError{code: ErrorNoSavedSessions,
			message: "this server keeps no saved sessions; only the live session can be queried"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	saved, err := h.opts.Store.Load(ctx, id)
	switch {
	case errors.Is(err, ErrSessionNotFound):
		return saved, &requestError{code: ErrorUnknownSession,
			message: fmt.Sprintf("session %q not found", id)}
	case err != nil:
		h.log.Error("chart saved session load failed", "session_id", id, "error", err)
		return saved, &requestError{code: ErrorStoreFailed,
			message: fmt.Sprintf("loading session %q failed; see the server log", id)}
	}
	return saved, nil
}

func errorReply(id, code, message string) []byte {
	data, err := json.Marshal(errorMessage{
		Type: TypeError, V: ProtocolVersion, ID: id, Code: code, Message: message,
	})
	if err != nil {
		// Marshalling a struct of strings cannot fail.
		panic(err)
	}
	return data
}
