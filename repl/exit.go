package repl

import (
	"context"
	"errors"
	"fmt"

	"ctq/engine/snapshot"
	"ctq/sync/config"
)

// Exit codes of ctq.
const (
	ExitOK          = 0   // success
	ExitRuntime     = 1   // a runtime or kernel error; with --fail-empty, a statement that selected nothing
	ExitUsage       = 2   // a usage, parse or type error, a bad sync configuration or a bad line of a saved table
	ExitInterrupted = 130 // interrupted by SIGINT
)

// ExitCode maps an error returned by a Session (or ctq's flag handling) to
// ctq's exit code.
func ExitCode(err error) int {
	var se *SourceError
	var ue *UsageError
	var le *LoadError
	var ee *ExitError
	var ce *config.Error
	var sl *snapshot.LineError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &se), errors.As(err, &ue), errors.As(err, &le), errors.As(err, &ce), errors.As(err, &sl):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	}
	return ExitRuntime
}

// UsageError is a wrong invocation of ctq (a bad flag or argument).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// ExitError is a script's exit statement with a code other than 0: the
// run ends with Code.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("the script exited with code %d", e.Code) }
