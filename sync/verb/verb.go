package verb

import (
	"slices"
	"strings"
)

// The verbs.
const (
	Run     = "run"
	Start   = "start"
	Stop    = "stop"
	Status  = "status"
	Commit  = "commit"
	Flush   = "flush"
	Resync  = "resync"
	Refresh = "refresh"
	Bulk    = "bulk"
	Purge   = "purge"
	Dump    = "dump"
	Metrics = "metrics"
)

// Use says where a verb is a word: in the sync statement, in the control
// protocol, or both.
type Use uint8

// The uses of a verb.
const (
	// Statement verbs are the actions of `sync VERB [ARG]`.
	Statement Use = 1 << iota
	// Request verbs are the requests of the control protocol.
	Request
)

// Verb is a sync verb and the arguments it takes.
type Verb struct {
	// Name is the verb's word.
	Name string
	// Args are the arguments the verb takes, each a word or words ("kernel
	// expect"), in help order; "" stands for no argument, so a verb whose
	// Args hold "" and words takes an optional argument.
	Args []string
	// Use says where the verb is a word.
	Use Use
}

// none is the Args of a verb without arguments.
var none = []string{""}

// tables are the arguments that pick the conntrack or the expect table.
var tables = []string{"", "conntrack", "expect"}

// verbs is the table, in help order. It is never changed: Lookup hands
// out copies.
var verbs = []Verb{
	{Run, none, Statement},
	{Start, none, Statement},
	{Stop, none, Statement | Request},
	{Status, none, Statement | Request},
	{Commit, tables, Statement | Request},
	{Flush, []string{"", "internal", "external", "kernel", "kernel conntrack", "kernel expect"}, Statement | Request},
	{Resync, none, Statement | Request},
	{Refresh, tables, Statement | Request},
	{Bulk, none, Statement | Request},
	{Purge, none, Statement | Request},
	{Dump, []string{"internal", "external", "internal expect", "external expect"}, Statement | Request},
	{Metrics, none, Request},
}

// Names returns the names of the verbs of use, in help order.
func Names(use Use) []string {
	var out []string
	for _, v := range verbs {
		if v.Use&use != 0 {
			out = append(out, v.Name)
		}
	}
	return out
}

// Lookup returns the verb of use called name.
func Lookup(name string, use Use) (Verb, bool) {
	for _, v := range verbs {
		if v.Name == name && v.Use&use != 0 {
			return v.clone(), true
		}
	}
	return Verb{}, false
}

// Actions returns every verb of use with each of its arguments ("run",
// "commit", "commit conntrack", ...), in help order.
func Actions(use Use) []string {
	var out []string
	for _, v := range verbs {
		if v.Use&use == 0 {
			continue
		}
		for _, a := range v.Args {
			out = append(out, v.action(a))
		}
	}
	return out
}

func (v Verb) clone() Verb {
	v.Args = append([]string(nil), v.Args...)
	return v
}

// action is the verb with the argument arg.
func (v Verb) action(arg string) string {
	if arg == "" {
		return v.Name
	}
	return v.Name + " " + arg
}

// Takes reports whether arg ("" for none) is an argument of v.
func (v Verb) Takes(arg string) bool {
	return slices.Contains(v.Args, arg)
}

// Words returns the arguments of v without the empty one: nil for a verb
// without arguments.
func (v Verb) Words() []string {
	var out []string
	for _, a := range v.Args {
		if a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Next returns the words that may follow the verb and the argument words
// given so far (arg, "" for none), without repeats, in help order; done
// reports whether arg is a whole argument, so the action may end there.
func (v Verb) Next(arg string) (words []string, done bool) {
	prefix := ""
	if arg != "" {
		prefix = arg + " "
	}
	for _, a := range v.Args {
		if a == arg {
			done = true
			continue
		}
		rest, ok := strings.CutPrefix(a, prefix)
		if !ok || rest == "" {
			continue
		}
		w, _, _ := strings.Cut(rest, " ")
		if !slices.Contains(words, w) {
			words = append(words, w)
		}
	}
	return words, done
}
