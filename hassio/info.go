package hassio

import (
	"context"
	"errors"
	"regexp"
)

// AddonInfo is the part of GET /addons/self/info that fitbridge uses.
type AddonInfo struct {
	// Slug is the add-on's full slug: the repository id, an underscore and
	// the slug of config.yaml, such as local_fitbridge or 0a1b2c3d_fitbridge.
	Slug string `json:"slug"`
	// Version is the installed add-on version.
	Version string `json:"version"`
	// Hostname is the add-on's host name on the add-on network.
	Hostname string `json:"hostname"`
	// IngressURL is the path under which Home Assistant serves the add-on's
	// ingress panel, such as /api/hassio_ingress/<token>/.
	IngressURL string `json:"ingress_url"`
}

// validSlug matches the full slugs the Supervisor builds. It keeps a
// malformed answer out of the URL that AddonPageURL builds.
var validSlug = regexp.MustCompile(`^[a-z0-9_-]+$`)

// SelfInfo returns the add-on's own info from GET /addons/self/info, which
// needs no hassio_api permission.
func (c *Client) SelfInfo(ctx context.Context) (AddonInfo, error) {
	var info AddonInfo
	if err := c.get(ctx, "/addons/self/info", &info); err != nil {
		return AddonInfo{}, err
	}
	if !validSlug.MatchString(info.Slug) {
		return AddonInfo{}, errors.New("get /addons/self/info from the Supervisor: " +
			"missing or invalid slug")
	}
	return info, nil
}

// AddonPageURL returns the homeassistant:// link that opens the page of the
// add-on with this full slug in the Home Assistant frontend. Home Assistant's
// own Supervisor integration links its add-on devices the same way, and a
// device configuration_url accepts the homeassistant scheme.
func AddonPageURL(slug string) string {
	return "homeassistant://hassio/addon/" + slug
}
