package audit

import "slices"

// Valid reports whether a is one of Actions.
func (a Action) Valid() bool { return slices.Contains(Actions(), a) }

// Outcomes lists every outcome, for the log's filter.
func Outcomes() []Outcome { return []Outcome{OK, Refused, Failed} }

// Valid reports whether o is one of Outcomes.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes(), o) }
