package conntrack

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"

	"ctq/engine"
	"ctq/lang/ctargs"
)

// Exit codes, as conntrack returns them.
const (
	exitOK      = 0
	exitProblem = 1 // OTHER_PROBLEM: the kernel, a failed operation, nothing affected
	exitParam   = 2 // PARAMETER_PROBLEM: the command line
)

// summary writes a summary line ("conntrack v1.4.7 (conntrack-tools): 3
// flow entries have been shown.") to w.
func summary(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, prefix+format+"\n", args...)
}

// fail writes an error as conntrack's exit_error does and returns code:
// the prefixed message, and for a parameter problem the hint to -h.
func fail(w io.Writer, code int, msg string) int {
	io.WriteString(w, prefix+msg+"\n")
	if code == exitParam {
		io.WriteString(w, tryHelp)
	}
	return code
}

// opFailed is fail for an error of the kernel: "Operation failed: TEXT",
// exit code 1.
func opFailed(w io.Writer, op ctargs.Op, table engine.Table, err error) int {
	return fail(w, exitProblem, "Operation failed: "+errText(op, table, err))
}

// errnoENOTSUPP is the kernel's ENOTSUPP (524), which has no name in
// userspace headers.
const errnoENOTSUPP = syscall.Errno(524)

// errText is conntrack's text for a failure of op (its err2str): its own
// words for the usual errno values of each command, strerror for the
// others, and the error's text when it carries no errno.
func errText(op ctargs.Op, table engine.Table, err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, engine.ErrPermission):
		errno = syscall.EPERM
	case errors.Is(err, engine.ErrNotFound):
		errno = syscall.ENOENT
	case !errors.As(err, &errno):
		return err.Error()
	}
	expect := table == engine.TableExpect
	in := func(ops ...ctargs.Op) bool {
		for _, o := range ops {
			if o == op {
				return true
			}
		}
		return false
	}
	switch {
	case errno == syscall.EPERM:
		return "sorry, you must be root or get CAP_NET_ADMIN capability to do this"
	case errno == syscall.EINVAL && !in(ctargs.OpAdd, ctargs.OpStats) && !(op == ctargs.OpCount && expect):
		return "invalid parameters"
	case errno == syscall.EEXIST && op == ctargs.OpCreate:
		return "Such conntrack exists, try -U to update"
	case errno == syscall.ENOENT && op == ctargs.OpCreate && expect:
		return "master conntrack not found"
	case errno == syscall.ENOENT && in(ctargs.OpCreate, ctargs.OpGet, ctargs.OpDelete, ctargs.OpAdd) && !expect:
		return "such conntrack doesn't exist"
	case errno == syscall.ENOMEM && in(ctargs.OpCreate, ctargs.OpGet, ctargs.OpAdd):
		return "not enough memory"
	case errno == syscall.EAFNOSUPPORT && op == ctargs.OpGet:
		return "protocol not supported"
	case errno == syscall.ETIME && in(ctargs.OpCreate, ctargs.OpAdd):
		return "conntrack has expired"
	case errno == errnoENOTSUPP && op == ctargs.OpList:
		return "function not implemented"
	}
	return strerror(errno)
}

// strerror is glibc's text of errno: Go's, with a capital first letter.
func strerror(errno syscall.Errno) string {
	if errno == errnoENOTSUPP {
		return "Unknown error 524"
	}
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// firstError is the error that a mutation's failure is reported with: the
// first request that failed, else err itself.
func firstError(err error) error {
	var me *engine.MutationError
	if errors.As(err, &me) && len(me.Stats.Errors) > 0 {
		return me.Stats.Errors[0]
	}
	return err
}
