package resolve

import (
	"fmt"
	"strings"
)

// UnsatisfiableError reports a requested package or a dependency that
// cannot be installed, with the chain of relations that led to it, e.g.
//
//	nginx → libssl3 (>= 3.0.9): not in the mirror
type UnsatisfiableError struct {
	// Chain starts with the requested (or base) package and follows the
	// relations, as written, down to the one that failed.
	Chain []string
	// Reason says why the last element of Chain cannot be satisfied.
	Reason string
}

func (e *UnsatisfiableError) Error() string {
	return strings.Join(e.Chain, " → ") + ": " + e.Reason
}

// ConflictError reports two packages of the chosen set that may not be
// installed together.
type ConflictError struct {
	Package  *Package // the package declaring the relation
	Field    string   // "Conflicts" or "Breaks"
	Relation string   // the relation as written
	Other    *Package // the selected package that matches it
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s %s: %s is selected too", e.Package, e.Field, e.Relation, e.Other)
}
