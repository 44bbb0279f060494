package sim

import "time"

// The simulated workout, repeated for as long as the simulator runs: a
// warm-up, work rounds with rests between them, a cool-down, then a
// changeover with no straps on before the next group starts.
const (
	warmUpLength     = 5 * time.Minute
	roundCount       = 8
	workLength       = 3 * time.Minute
	restLength       = time.Minute
	coolDownLength   = 6 * time.Minute
	changeoverLength = 3 * time.Minute

	roundsLength = roundCount * (workLength + restLength)
	cycleLength  = warmUpLength + roundsLength + coolDownLength + changeoverLength
)

// The participant who takes a break sits out rounds breakFirstRound to
// breakLastRound (0-based), strap off. Eight minutes is longer than
// fitbridge's default 5-minute leave timeout, so the break shows a
// participant leaving and coming back.
const (
	breakTaker      = 2
	breakFirstRound = 3
	breakLastRound  = 4
)

type phaseKind int

const (
	phaseWarmUp phaseKind = iota
	phaseWork
	phaseRest
	phaseCoolDown
	phaseChangeover
)

// phase is the position of a moment in the workout.
type phase struct {
	kind phaseKind
	// round is the 0-based work round for phaseWork and phaseRest, else -1.
	round int
	// progress is how far into the phase the moment is, from 0 to 1.
	progress float64
	// sinceStart is the time since the phase began.
	sinceStart time.Duration
}

// phaseAt returns the phase at elapsed time since the simulator started.
func phaseAt(elapsed time.Duration) phase {
	t := elapsed % cycleLength
	if t < warmUpLength {
		return phase{kind: phaseWarmUp, round: -1, progress: fraction(t, warmUpLength), sinceStart: t}
	}
	t -= warmUpLength
	if t < roundsLength {
		round := int(t / (workLength + restLength))
		t -= time.Duration(round) * (workLength + restLength)
		if t < workLength {
			return phase{kind: phaseWork, round: round, progress: fraction(t, workLength), sinceStart: t}
		}
		t -= workLength
		return phase{kind: phaseRest, round: round, progress: fraction(t, restLength), sinceStart: t}
	}
	t -= roundsLength
	if t < coolDownLength {
		return phase{kind: phaseCoolDown, round: -1, progress: fraction(t, coolDownLength), sinceStart: t}
	}
	t -= coolDownLength
	return phase{
		kind: phaseChangeover, round: -1, progress: fraction(t, changeoverLength), sinceStart: t,
	}
}

func fraction(part, whole time.Duration) float64 {
	return float64(part) / float64(whole)
}

// intensity returns the effort asked for in a phase, as a fraction of the
// heart-rate reserve (0 is resting, 1 is maximum).
func intensity(p phase) float64 {
	switch p.kind {
	case phaseWarmUp:
		return 0.30 + 0.30*p.progress
	case phaseWork:
		// Later rounds are a little harder.
		return 0.78 + 0.015*float64(p.round)
	case phaseRest:
		return 0.40
	case phaseCoolDown:
		return 0.45 - 0.30*p.progress
	default:
		return 0.10
	}
}

// onBreak reports whether participant index sits out at phase p.
func onBreak(index int, p phase) bool {
	if index != breakTaker || p.round < breakFirstRound || p.round > breakLastRound {
		return false
	}
	return p.kind == phaseWork || p.kind == phaseRest
}
