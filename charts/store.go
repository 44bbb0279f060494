package charts

import (
	"context"
	"errors"

	"github.com/fitbridge/fitbridge/sessions"
)

// ErrSessionNotFound is the error a SessionStore wraps when no saved session has the id.
var ErrSessionNotFound = errors.New("session not found")

// SessionStore provides saved sessions to the HTTP API and to range queries. The hub
// calls it from connection and request goroutines, so it must be safe for concurrent use.
type SessionStore interface {
	// List returns the summaries of at most limit saved sessions, newest first.
	List(ctx context.Context, limit int) ([]sessions.Summary, error)
	// Load returns one saved session. Its error wraps ErrSessionNotFound when no saved
	// session has the id.
	Load(ctx context.Context, id string) (SavedSession, error)
}

// SavedSession is a finished session as the store keeps it.
type SavedSession struct {
	Summary sessions.Summary
	// Timeline holds the session's series for charts; nil when the store has none.
	Timeline *Timeline
}
