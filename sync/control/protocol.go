package control

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxRequest is the longest request line the server reads, newline
// included.
const MaxRequest = 256

// Verbs of the protocol.
const (
	VerbStatus = "status"
	VerbCommit = "commit"
	VerbFlush  = "flush"
	VerbResync = "resync"
	VerbDump   = "dump"
	VerbStop   = "stop"
)

// Request is one parsed request line.
type Request struct {
	Verb string
	// Arg is the argument of dump (internal or external), empty for the
	// other verbs.
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
	r := Request{Verb: verb, Arg: arg}
	switch verb {
	case VerbStatus, VerbCommit, VerbFlush, VerbResync, VerbStop:
		if arg != "" {
			return Request{}, fmt.Errorf("request %q: %s takes no argument", line, verb)
		}
	case VerbDump:
		if arg != "internal" && arg != "external" {
			return Request{}, fmt.Errorf("request %q: dump takes internal or external", line)
		}
	default:
		return Request{}, fmt.Errorf("request %q: unknown verb", line)
	}
	return r, nil
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

// readReply reads a reply: the body lines of OK, or ERR's message as an
// error.
func readReply(r *bufio.Reader) ([]string, error) {
	head, err := readLine(r, MaxRequest+4096)
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if msg, ok := strings.CutPrefix(head, "ERR "); ok {
		return nil, &RemoteError{Msg: msg}
	}
	n, ok := strings.CutPrefix(head, "OK ")
	if !ok {
		return nil, fmt.Errorf("read reply: malformed status line %q", head)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 0 {
		return nil, fmt.Errorf("read reply: malformed line count %q", n)
	}
	body := make([]string, 0, min(count, 1024))
	for range count {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("read reply body: %w", err)
		}
		body = append(body, strings.TrimSuffix(line, "\n"))
	}
	return body, nil
}

// RemoteError is an error the node reported for a request.
type RemoteError struct {
	Msg string
}

func (e *RemoteError) Error() string { return "sync node: " + e.Msg }
