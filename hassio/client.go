// Package hassio is fitbridge's side of the Home Assistant Supervisor, for
// the add-on: the Supervisor API calls (the MQTT service and the add-on's own
// info) and the ingress rules of the add-on's HTTP server.
//
// It sits beside the add-on folder addon/ rather than in it, because addon/
// holds only what the Supervisor and the add-on store read (config.yaml, the
// Dockerfile, documentation, images).
package hassio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	// DefaultURL is the Supervisor API address inside an add-on container.
	DefaultURL = "http://supervisor"
	// TokenEnv names the environment variable that holds the add-on's
	// Supervisor API token. The Supervisor sets it in every add-on container.
	TokenEnv = "SUPERVISOR_TOKEN"
	// DefaultTimeout bounds one Supervisor request when Client.HTTPClient is nil.
	DefaultTimeout = 10 * time.Second

	// maxResponseBytes bounds a Supervisor response body, so a faulty
	// response cannot exhaust memory.
	maxResponseBytes = 1 << 20
)

// ErrNoToken is returned by every Client call when Client.Token is empty.
var ErrNoToken = errors.New("no Supervisor API token: " + TokenEnv +
	" is empty; it is set only inside a Home Assistant add-on container")

// Client calls the Supervisor API. The zero value with a Token set talks to
// DefaultURL.
type Client struct {
	// BaseURL is the Supervisor API address; empty means DefaultURL.
	BaseURL string
	// Token is sent as a bearer token; empty makes every call return ErrNoToken.
	Token string
	// HTTPClient sends the requests; nil means a client with DefaultTimeout.
	HTTPClient *http.Client
}

// NewClientFromEnv returns a Client for DefaultURL with the token from the
// TokenEnv environment variable, which may be empty.
func NewClientFromEnv() *Client {
	return &Client{Token: os.Getenv(TokenEnv)}
}

// StatusError is a Supervisor response with a status code other than 2xx.
type StatusError struct {
	// Path is the API path requested, such as /services/mqtt.
	Path string
	// StatusCode is the HTTP status code of the response.
	StatusCode int
	// Message is the "message" field of the Supervisor's JSON error body, or
	// the start of the body when it is not JSON.
	Message string
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("get %s from the Supervisor: HTTP status %d", e.Path, e.StatusCode)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Temporary reports whether repeating the request may succeed: true for a
// 5xx status, false for a 4xx status such as a missing service or permission.
func (e *StatusError) Temporary() bool {
	return e.StatusCode >= 500
}

// envelope is the body of every Supervisor API response.
type envelope struct {
	Result  string          `json:"result"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// get requests path and decodes the "data" field of the response into data.
func (c *Client) get(ctx context.Context, path string, data any) error {
	if c.Token == "" {
		return ErrNoToken
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultURL
	}
	// operation names the call in every error, as in "get /services/mqtt from the Supervisor".
	operation := "get " + path + " from the Supervisor"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		strings.TrimRight(base, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")

	httpClient := c.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", operation, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("%s: read response: %w", operation, err)
	}
	if len(body) > maxResponseBytes {
		return fmt.Errorf("%s: response larger than %d bytes", operation, maxResponseBytes)
	}

	var env envelope
	decodeErr := json.Unmarshal(body, &env)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := env.Message
		if decodeErr != nil {
			msg = strings.TrimSpace(string(body[:min(len(body), 200)]))
		}
		return &StatusError{Path: path, StatusCode: resp.StatusCode, Message: msg}
	}
	if decodeErr != nil {
		return fmt.Errorf("%s: invalid JSON response: %w", operation, decodeErr)
	}
	if env.Result != "ok" {
		return fmt.Errorf("%s: result %q: %s", operation, env.Result, env.Message)
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("%s: invalid data: %w", operation, err)
	}
	return nil
}
