package schedule

import (
	"errors"
	"time"
)

// The run scheduler's errors and states that the API reports (package
// runner makes them, package api shows them): here, so that api needs
// nothing of runner.

// ErrShuttingDown is the cause of the cancellation of a run's context when
// metricgate serve shuts down.
var ErrShuttingDown = errors.New("metricgate is shutting down")

// ErrRunInProgress is returned by a Trigger when a run is going on
// already, in this process or in another replica (which holds the run
// lock).
var ErrRunInProgress = errors.New("a run is in progress")

// TickError says why the run of the newest tick could not start, while the
// scheduler tries again.
type TickError struct {
	// Tick is the tick whose run could not start.
	Tick time.Time
	// Error is the newest attempt's error.
	Error string
	// Attempts counts the failed attempts so far.
	Attempts int
	// At is the time of the newest attempt, RetryAt of the next one.
	At, RetryAt time.Time
}
