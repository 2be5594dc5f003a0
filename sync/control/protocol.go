package control

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
)

// MaxRequest is the longest request line the server reads, newline
// included.
const MaxRequest = 256

// maxReplyLine bounds a reply line the client reads.
const maxReplyLine = 64 << 10

// Verbs of the protocol.
const (
	VerbStatus  = "status"
	VerbCommit  = "commit"
	VerbFlush   = "flush"
	VerbResync  = "resync"
	VerbRefresh = "refresh"
	VerbBulk    = "bulk"
	VerbPurge   = "purge"
	VerbDump    = "dump"
	VerbStop    = "stop"
	VerbMetrics = "metrics"
)

// verbArgs lists the arguments each verb takes; "" is no argument.
var verbArgs = map[string][]string{
	VerbStatus:  {""},
	VerbCommit:  {"", "conntrack", "expect"},
	VerbFlush:   {"", "internal", "external", "kernel", "kernel conntrack", "kernel expect"},
	VerbResync:  {""},
	VerbRefresh: {"", "conntrack", "expect"},
	VerbBulk:    {""},
	VerbPurge:   {""},
	VerbDump:    {"internal", "external", "internal expect", "external expect"},
	VerbStop:    {""},
	VerbMetrics: {""},
}

// Request is one parsed request line.
type Request struct {
	Verb string
	// Arg is the verb's argument (dump's cache, flush's target), empty
	// when it has none.
	Arg string
}

// String is the request as its line, without the newline.
func (r Request) String() string {
	if r.Arg == "" {
		return r.Verb
	}
	return r.Verb + " " + r.Arg
}

// ParseRequest parses a request line (without its newline).
func ParseRequest(line string) (Request, error) {
	verb, arg, _ := strings.Cut(line, " ")
	args, ok := verbArgs[verb]
	if !ok {
		return Request{}, fmt.Errorf("request %q: unknown verb", line)
	}
	for _, a := range args {
		if a == arg {
			return Request{Verb: verb, Arg: arg}, nil
		}
	}
	if len(args) == 1 && args[0] == "" {
		return Request{}, fmt.Errorf("request %q: %s takes no argument", line, verb)
	}
	return Request{}, fmt.Errorf("request %q: %s takes %s", line, verb, strings.Join(nonEmpty(args), ", "))
}

// nonEmpty is list without its empty strings.
func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// readLine reads one line of at most limit bytes, without its newline.
func readLine(r *bufio.Reader, limit int) (string, error) {
	var b []byte
	for {
		frag, err := r.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > limit {
			return "", fmt.Errorf("line longer than %d bytes", limit)
		}
		if err == nil {
			return string(b[:len(b)-1]), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
}

// readReply reads a reply, calling fn for each body line as it comes: the
// body of OK until its end line, or ERR's message as an error (before the
// body, or in the end line when the request failed on the way).
func readReply(r *bufio.Reader, fn func(line string) error) error {
	head, err := readLine(r, maxReplyLine)
	if err != nil {
		return fmt.Errorf("read reply: %w", err)
	}
	if msg, ok := strings.CutPrefix(head, "ERR "); ok {
		return &RemoteError{Msg: msg}
	}
	if head != "OK" {
		return fmt.Errorf("read reply: malformed status line %q", head)
	}
	for {
		line, err := readLine(r, maxReplyLine)
		if err != nil {
			return fmt.Errorf("read reply body: %w", err)
		}
		if rest, ok := strings.CutPrefix(line, "."); ok {
			switch {
			case rest == "":
				return nil
			case strings.HasPrefix(rest, "."):
				line = rest // a body line that starts with a dot
			default:
				if msg, ok := strings.CutPrefix(rest, "ERR "); ok {
					return &RemoteError{Msg: msg}
				}
				return fmt.Errorf("read reply body: malformed end line %q", line)
			}
		}
		if err := fn(line); err != nil {
			return err
		}
	}
}

// RemoteError is an error the node reported for a request.
type RemoteError struct {
	Msg string
}

func (e *RemoteError) Error() string { return "sync node: " + e.Msg }
