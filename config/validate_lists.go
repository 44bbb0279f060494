package config

import (
	"regexp"
	"slices"
	"strings"
)

// GuestPrefix starts the id of every guest participant, who is made from an
// unknown device. Configured participant ids must not start with it.
const GuestPrefix = "guest-"

// idPattern limits ids to what MQTT topic levels and Home Assistant discovery
// node and object ids accept unchanged.
var idPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

const allowedID = "1 to 64 characters from a-z, A-Z, 0-9, _ and -"

// checkIDs checks the ids of one list: each valid and unique. Uniqueness
// ignores case because Home Assistant lower-cases entity ids, so "Alex" and
// "alex" would collide there.
func (v *validator) checkIDs(list string, ids []string) {
	firstIndex := make(map[string]int)
	for i, id := range ids {
		path := joinIndex(list, i) + ".id"
		if !idPattern.MatchString(id) {
			v.add(path, quote(id), "not a valid id", allowedID)
			continue
		}
		folded := strings.ToLower(id)
		if j, dup := firstIndex[folded]; dup {
			v.add(path, quote(id), "duplicate id, "+joinIndex(list, j)+" has it already "+
				"(ids are compared ignoring case)", "an id not used elsewhere in "+list)
			continue
		}
		firstIndex[folded] = i
	}
}

// checkZones checks the zone list. ceiling is the highest bound a reading can reach:
// heart_rate.max in bpm, or 100 when percent is set.
func (v *validator) checkZones(zones []Zone, ceiling float64, percent bool) {
	if len(zones) == 0 {
		v.add("zones", "", "at least one zone is required",
			"a list of zones with id, name, min and coins")
		return
	}
	ids := make([]string, len(zones))
	for i, z := range zones {
		ids[i] = z.ID
	}
	v.checkIDs("zones", ids)

	for i, z := range zones {
		minPath := joinIndex("zones", i) + ".min"
		switch {
		case !finite(z.Min):
			v.add(minPath, formatFloat(z.Min), "not a finite number", "a heart rate in bpm")
		case i == 0 && z.Min < 0:
			v.add(minPath, formatFloat(z.Min), "the first zone must start at 0 or above",
				"a heart rate of 0 bpm or more")
		case i > 0 && finite(zones[i-1].Min) && z.Min <= zones[i-1].Min:
			v.add(minPath, formatFloat(z.Min),
				"zones must be in ascending order of min, and "+joinIndex("zones", i-1)+
					".min is "+formatFloat(zones[i-1].Min),
				"a value above "+formatFloat(zones[i-1].Min))
		case finite(ceiling) && z.Min > ceiling && percent:
			v.add(minPath, formatFloat(z.Min), "a percent bound must be at most 100",
				"a value up to 100")
		case finite(ceiling) && z.Min > ceiling:
			v.add(minPath, formatFloat(z.Min),
				"no valid reading can reach it, because heart_rate.max is "+formatFloat(ceiling),
				"a value up to heart_rate.max")
		}
		if z.Coins < 0 {
			v.add(joinIndex("zones", i)+".coins", formatInt(z.Coins), "must not be negative",
				"a whole number of 0 or more")
		}
	}
}

func (v *validator) checkParticipants(c *Config) {
	ids := make([]string, len(c.Participants))
	for i, p := range c.Participants {
		ids[i] = p.ID
	}
	v.checkIDs("participants", ids)

	// owner maps each device id to the path of its first mapping.
	owner := make(map[string]string)
	for i, p := range c.Participants {
		base := joinIndex("participants", i)
		if len(p.ID) >= len(GuestPrefix) && strings.EqualFold(p.ID[:len(GuestPrefix)], GuestPrefix) {
			v.add(base+".id", quote(p.ID),
				"ids starting with "+quote(GuestPrefix)+" are reserved for guests made from unknown devices",
				"an id that does not start with "+quote(GuestPrefix))
		}
		for j, device := range p.Devices {
			path := joinIndex(base+".devices", j)
			if problem := deviceIDProblem(device); problem != "" {
				v.add(path, quote(device), problem,
					"the device's level of heart_rate.topic, without + # or /")
				continue
			}
			if first, dup := owner[device]; dup {
				v.add(path, quote(device), "the device is already listed at "+first,
					"each device id listed once across all participants")
				continue
			}
			owner[device] = path
		}
		v.checkZoneOverrides(c, i)
	}
}

// deviceIDProblem checks a device id, which is one level of a topic matched
// by heart_rate.topic.
func deviceIDProblem(id string) string {
	if id == "" {
		return "must not be empty"
	}
	if p := topicTextProblem(id); p != "" {
		return p
	}
	if strings.ContainsAny(id, "+#/") {
		return "must not contain + # or /"
	}
	return ""
}

// checkZoneOverrides checks the zone mapping of participant i: each key names
// a configured zone, and the zones with the overrides applied still start at 0
// or above, ascend strictly and stay reachable.
func (v *validator) checkZoneOverrides(c *Config, i int) {
	p := c.Participants[i]
	base := joinIndex("participants", i) + ".zones"
	zoneIDs := make([]string, len(c.Zones))
	for k, z := range c.Zones {
		zoneIDs[k] = z.ID
	}

	keys := make([]string, 0, len(p.Zones))
	for id := range p.Zones {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	allFinite := true
	for _, id := range keys {
		bound := p.Zones[id]
		path := joinKey(base, id)
		if !slices.Contains(zoneIDs, id) {
			v.add(path, "", "unknown zone id "+quote(id), strings.Join(zoneIDs, ", "))
			continue
		}
		if !finite(bound) {
			v.add(path, formatFloat(bound), "not a finite number", "a heart rate in bpm")
			allFinite = false
		}
	}
	if !allFinite {
		return
	}

	zones := applyZoneOverrides(c.Zones, p.Zones)
	for k, z := range zones {
		own, overridden := p.Zones[z.ID]
		if !overridden {
			continue
		}
		path := joinKey(base, z.ID)
		if k == 0 && own < 0 {
			v.add(path, formatFloat(own), "the first zone must start at 0 or above",
				"a heart rate of 0 bpm or more")
		}
		if k > 0 && own <= zones[k-1].Min {
			v.add(path, formatFloat(own),
				"must be above this participant's "+zones[k-1].ID+" zone, which starts at "+
					formatFloat(zones[k-1].Min),
				"a value above "+formatFloat(zones[k-1].Min))
		}
		if k+1 < len(zones) && own >= zones[k+1].Min {
			if _, nextOverridden := p.Zones[zones[k+1].ID]; !nextOverridden {
				v.add(path, formatFloat(own),
					"must be below this participant's "+zones[k+1].ID+" zone, which starts at "+
						formatFloat(zones[k+1].Min),
					"a value below "+formatFloat(zones[k+1].Min))
			}
		}
		if ceiling := c.zoneCeiling(); finite(ceiling) && own > ceiling {
			reason := "no valid reading can reach it, because heart_rate.max is " +
				formatFloat(ceiling)
			if c.ZoneUnit == ZoneUnitPercent {
				reason = "a percent bound must be at most 100"
			}
			v.add(path, formatFloat(own), reason, "a value up to "+formatFloat(ceiling))
		}
	}
}

func (v *validator) checkEquipmentHold(c *Config) {
	for i, e := range c.Equipment {
		if e.Hold < 0 {
			v.add(joinIndex("equipment", i)+".hold", formatDuration(e.Hold), "must not be negative",
				"0 (use session.equipment_timeout) or a positive duration")
		}
	}
}

func (v *validator) checkEquipment(c *Config) {
	v.checkEquipmentHold(c)
	ids := make([]string, len(c.Equipment))
	for i, e := range c.Equipment {
		ids[i] = e.ID
	}
	v.checkIDs("equipment", ids)

	const allowed = "the zigbee2mqtt state topic of the sensor, such as zigbee2mqtt/bag_sensor"
	firstIndex := make(map[string]int)
	for i, e := range c.Equipment {
		path := joinIndex("equipment", i) + ".topic"
		if problem := topicNameProblem(e.Topic); problem != "" {
			v.add(path, quote(e.Topic), problem, allowed)
			continue
		}
		if j, dup := firstIndex[e.Topic]; dup {
			v.add(path, quote(e.Topic), "duplicate topic, "+joinIndex("equipment", j)+
				" has it already", "a topic not used by other equipment")
			continue
		}
		firstIndex[e.Topic] = i

		for _, owned := range []struct{ key, prefix string }{
			{"base_topic", c.BaseTopic},
			{"discovery_prefix", c.DiscoveryPrefix},
		} {
			if owned.prefix != "" && isUnder(e.Topic, owned.prefix) {
				v.add(path, quote(e.Topic),
					"lies under "+owned.key+" "+quote(owned.prefix)+", where fitbridge publishes",
					allowed)
			}
		}
		if heartRateFilterProblem(c.HeartRate.Topic) == "" &&
			filterMatches(c.HeartRate.Topic, e.Topic) {
			v.add(path, quote(e.Topic),
				"heart_rate.topic "+quote(c.HeartRate.Topic)+" matches it too",
				"a topic that heart_rate.topic does not match")
		}
	}
}
