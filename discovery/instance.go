package discovery

import (
	"os"
	"strings"

	"github.com/fitbridge/fitbridge/config"
)

// maxInstanceIDLen matches the length limit config puts on a set instance_id.
const maxInstanceIDLen = 64

// InstanceID returns the node id of cfg's discovery topics and the first part
// of every unique id: the configured instance_id, else the host name mapped
// by HostInstanceID.
func InstanceID(cfg config.Config) string {
	if cfg.InstanceID != "" {
		return cfg.InstanceID
	}
	host, err := os.Hostname()
	if err != nil {
		host = ""
	}
	return HostInstanceID(host)
}

// HostInstanceID maps a host name to an instance id: lower-cased, every
// character outside [a-z0-9_-] replaced by '_', at most 64 characters. An
// empty result becomes "fitbridge". Unlike Slug it adds no hash, because a
// host name is short and readable, and the id appears in every entity id.
func HostInstanceID(host string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		if b.Len() == maxInstanceIDLen {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' || r == '-' {
			b.WriteRune(r)
			continue
		}
		b.WriteByte('_')
	}
	if b.Len() == 0 {
		return config.DefaultBaseTopic
	}
	return b.String()
}
