package config

import (
	"slices"
	"strings"
)

// fillInstanceDefaults derives the base_topic and client_id defaults from a
// set instance_id, so that two instances on one broker differ in every
// topic and client id without further settings. Only values still equal
// to their defaults change, so a second Validate changes nothing. The
// instance id "fitbridge" keeps the defaults, which already name it.
func (c *Config) fillInstanceDefaults() {
	if c.InstanceID == "" || c.InstanceID == DefaultBaseTopic || !idPattern.MatchString(c.InstanceID) {
		return
	}
	if c.BaseTopic == DefaultBaseTopic {
		c.BaseTopic = DefaultBaseTopic + "/" + c.InstanceID
	}
	if c.Broker.ClientID == DefaultClientID {
		c.Broker.ClientID = DefaultClientID + "-" + c.InstanceID
	}
}

// checkDiscovery checks instance_id and the discovery section.
func (v *validator) checkDiscovery(c *Config) {
	if c.InstanceID != "" && !idPattern.MatchString(c.InstanceID) {
		v.add("instance_id", quote(c.InstanceID), "not a valid id",
			allowedID+", or empty for the host name")
	}

	modes := []string{DiscoveryModeComponent, DiscoveryModeDevice}
	if !slices.Contains(modes, c.Discovery.Mode) {
		v.add("discovery.mode", quote(c.Discovery.Mode), "unknown mode",
			strings.Join(modes, " or "))
	}

	if problem := topicNameProblem(c.Discovery.StatusTopic); problem != "" {
		v.add("discovery.status_topic", quote(c.Discovery.StatusTopic), problem,
			"the birth message topic set in Home Assistant's MQTT integration, "+
				"by default "+DefaultStatusTopic)
	}
}
