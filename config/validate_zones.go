package config

import "time"

// MaxLateness is the largest session.max_lateness accepted: coin windows
// stay open this long after they end, which delays every tick.
const MaxLateness = time.Minute

// zoneCeiling returns the highest zone bound any reading can reach, in
// ZoneUnit: heart_rate.max in bpm, or 100 percent.
func (c *Config) zoneCeiling() float64 {
	if c.ZoneUnit == ZoneUnitPercent {
		return 100
	}
	return c.HeartRate.Max
}

// checkZoneUnit checks zone_unit, the maximum heart rates, and that percent
// bounds still ascend strictly for every participant once rounded to bpm.
func (v *validator) checkZoneUnit(c *Config) {
	switch c.ZoneUnit {
	case ZoneUnitBPM, ZoneUnitPercent:
	default:
		v.add("zone_unit", c.ZoneUnit, "unknown unit", ZoneUnitBPM+" or "+ZoneUnitPercent)
		return
	}
	v.checkMaxHeartRate("default_max_heart_rate", c.DefaultMaxHeartRate, c, false)
	for i, p := range c.Participants {
		v.checkMaxHeartRate(joinIndex("participants", i)+".max_heart_rate", p.MaxHeartRate, c, true)
	}
	if c.ZoneUnit != ZoneUnitPercent || len(c.Zones) == 0 {
		return
	}
	check := func(path string, zones []Zone) {
		for k := 1; k < len(zones); k++ {
			if zones[k].Min <= zones[k-1].Min {
				v.add(path, formatFloat(zones[k].Min),
					"zone "+zones[k].ID+" rounds to the same bpm as zone "+zones[k-1].ID+
						" or below it", "percent bounds far enough apart to differ by 1 bpm or more")
				return
			}
		}
	}
	check("zones", c.ZonesFor(""))
	for i, p := range c.Participants {
		check(joinIndex("participants", i)+".zones", c.ZonesFor(p.ID))
	}
}

// checkMaxHeartRate checks a maximum heart rate in bpm; zeroAllowed lets a
// participant leave it unset.
func (v *validator) checkMaxHeartRate(path string, bpm float64, c *Config, zeroAllowed bool) {
	if zeroAllowed && bpm == 0 {
		return
	}
	if !finite(bpm) || bpm <= c.HeartRate.Min || bpm > c.HeartRate.Max {
		allowed := "a heart rate above heart_rate.min and at most heart_rate.max"
		if zeroAllowed {
			allowed = "0 (use default_max_heart_rate), or " + allowed
		}
		v.add(path, formatFloat(bpm), "out of range", allowed)
	}
}

// checkSessionRecovery checks the session keys of resuming, late readings,
// checkpoints, strap hand-over and milestones.
func (v *validator) checkSessionRecovery(s Session) {
	for _, d := range []struct {
		path  string
		value time.Duration
	}{
		{"session.resume_within", s.ResumeWithin},
		{"session.restart_cooldown", s.RestartCooldown},
		{"session.handover_window", s.HandoverWindow},
	} {
		if d.value < 0 {
			v.add(d.path, formatDuration(d.value), "must not be negative", "a duration of 0 or more")
		}
	}
	if s.MaxLateness < 0 || s.MaxLateness > MaxLateness {
		v.add("session.max_lateness", formatDuration(s.MaxLateness), "out of range",
			"a duration from 0 to "+formatDuration(MaxLateness))
	}
	if s.CheckpointInterval < MinCoinInterval {
		v.add("session.checkpoint_interval", formatDuration(s.CheckpointInterval),
			"shorter than 1s", "a duration of at least 1s")
	}
	if s.CoinMilestone < 0 {
		v.add("session.coin_milestone", formatInt(s.CoinMilestone), "must not be negative",
			"0 (no milestone events) or a whole number above 0")
	}
}
