package control

import (
	"bufio"
	"errors"
	"fmt"
	"strings"

	"ctq/sync/verb"
)

// MaxRequest is the longest request line the server reads, newline
// included.
const MaxRequest = 256

// maxReplyLine bounds a reply line the client reads.
const maxReplyLine = 64 << 10

// Verbs of the protocol (the Request verbs of package verb).
const (
	VerbStatus  = verb.Status
	VerbCommit  = verb.Commit
	VerbFlush   = verb.Flush
	VerbResync  = verb.Resync
	VerbRefresh = verb.Refresh
	VerbBulk    = verb.Bulk
	VerbPurge   = verb.Purge
	VerbDump    = verb.Dump
	VerbStop    = verb.Stop
	VerbMetrics = verb.Metrics
)

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
	name, arg, _ := strings.Cut(line, " ")
	v, ok := verb.Lookup(name, verb.Request)
	if !ok {
		return Request{}, fmt.Errorf("request %q: unknown verb", line)
	}
	if v.Takes(arg) {
		return Request{Verb: name, Arg: arg}, nil
	}
	words := v.Words()
	if len(words) == 0 {
		return Request{}, fmt.Errorf("request %q: %s takes no argument", line, name)
	}
	return Request{}, fmt.Errorf("request %q: %s takes %s", line, name, strings.Join(words, ", "))
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
