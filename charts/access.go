package charts

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// BearerSubprotocolPrefix starts the WebSocket subprotocol that carries the bearer token
// from a browser, which cannot set an Authorization header on a WebSocket request. The
// rest of the subprotocol is the token in unpadded base64url. The server never selects it.
const BearerSubprotocolPrefix = "fitbridge.bearer."

// Access controls who may use the feed and the API.
type Access struct {
	// AllowedOrigins are the origins (scheme://host[:port]) whose pages may open the feed,
	// besides the page's own origin.
	AllowedOrigins []string
	// Token, when not empty, is the bearer token that the feed and the API require. The
	// dashboard's files stay public because they hold no data.
	Token string
}

// checkOrigin accepts a WebSocket request without an Origin header (not from a browser),
// from the same origin, from an origin on the allow list, or from the origin that a Home
// Assistant ingress proxy reports in X-Forwarded-Host. A browser page cannot set either of
// the proxy's headers, so a foreign page cannot pass the last check.
func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	if r.Header.Get("X-Ingress-Path") != "" {
		// NOTE: taken from Home Assistant's ingress proxy code, which sets
		// X-Forwarded-Host to the host the browser used; not tested against a live
		// Home Assistant.
		forwarded, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ",")
		if forwarded = strings.TrimSpace(forwarded); strings.EqualFold(u.Host, forwarded) {
			return true
		}
	}
	normalized := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, allowed := range h.opts.Access.AllowedOrigins {
		if strings.ToLower(strings.TrimRight(allowed, "/")) == normalized {
			return true
		}
	}
	return false
}

// authorize checks the bearer token when one is configured, and responds 401 when it is
// missing or wrong. The comparison takes the same time for every wrong token of any length,
// because it compares SHA-256 digests in constant time.
func (h *Hub) authorize(w http.ResponseWriter, r *http.Request) bool {
	if h.opts.Access.Token == "" {
		return true
	}
	given, ok := bearerToken(r)
	if ok {
		want := sha256.Sum256([]byte(h.opts.Access.Token))
		got := sha256.Sum256([]byte(given))
		if subtle.ConstantTimeCompare(want[:], got[:]) == 1 {
			return true
		}
	}
	h.log.Warn("chart request unauthorized", "remote", r.RemoteAddr, "path", r.URL.Path,
		"token_present", ok)
	w.Header().Set("WWW-Authenticate", `Bearer realm="fitbridge"`)
	writeJSONError(w, http.StatusUnauthorized, "unauthorized",
		"missing or wrong bearer token: send Authorization: Bearer <http.token>")
	return false
}

// bearerToken returns the token of an Authorization: Bearer header, or else of a bearer
// subprotocol.
func bearerToken(r *http.Request) (string, bool) {
	if scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " "); found &&
		strings.EqualFold(scheme, "Bearer") {
		return strings.TrimSpace(token), true
	}
	for _, header := range r.Header.Values("Sec-WebSocket-Protocol") {
		for protocol := range strings.SplitSeq(header, ",") {
			encoded, found := strings.CutPrefix(strings.TrimSpace(protocol), BearerSubprotocolPrefix)
			if !found {
				continue
			}
			token, err := base64.RawURLEncoding.DecodeString(encoded)
			if err != nil {
				return "", true
			}
			return string(token), true
		}
	}
	return "", false
}
