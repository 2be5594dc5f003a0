package lang

import (
	"reflect"
	"slices"
	"strings"

	"ctq/engine"
)

// flowFields are the field names of engine.Flow as expressions see them
// (the expr tags), in declaration order, then the aliases.
var flowFields = append(exprTags(reflect.TypeFor[engine.Flow]()), "label_bits")

// fieldAliases are names an expression may use for a field: the keys of
// the json format that name a field again (label_bits: the bit numbers of
// the labels).
var fieldAliases = map[string]string{"label_bits": "labels"}

// expectFields are the field names of engine.Expect as expressions over
// the expect table see them, in declaration order.
var expectFields = exprTags(reflect.TypeFor[engine.Expect]())

// exprTags lists the expr tags of the fields of struct type t, skipping
// the hidden ("-") ones.
func exprTags(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("expr"); tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// fieldType is the type of the flow field an expression calls name.
func fieldType(name string) reflect.Type {
	t := reflect.TypeFor[engine.Flow]()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("expr") == name {
			return t.Field(i).Type
		}
	}
	return nil
}

// Fields lists the flow fields an expression can use, in the order of
// engine.Flow.
func Fields() []string {
	return slices.Clone(flowFields)
}

// ExpectFields lists the fields an expression over the expect table can
// use, in the order of engine.Expect.
func ExpectFields() []string {
	return slices.Clone(expectFields)
}

// constants are the bare words that stand for strings in expressions:
// protocol and family names, so that proto == tcp means proto == "tcp".
// They are reserved: a let variable of that name reads as the string.
var constants = []string{"tcp", "udp", "udplite", "icmp", "icmpv6", "sctp", "dccp", "gre", "ipv4", "ipv6"}

// Constants lists the bare words that expressions read as strings.
func Constants() []string {
	return slices.Clone(constants)
}

// suggest returns the candidate closest to word (by edit distance, an
// adjacent transposition counting as one edit), or "" when none is close
// enough to be a plausible typo. Case is ignored.
func suggest(word string, candidates ...[]string) string {
	best, bestD := "", 3
	lower := strings.ToLower(word)
	for _, list := range candidates {
		for _, c := range list {
			d := editDistance(lower, strings.ToLower(c))
			if d < bestD && d < len([]rune(word)) && d < len([]rune(c)) {
				best, bestD = c, d
			}
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b.
func editDistance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// rows i-2, i-1 and i of the distance table
	prev2 := make([]int, len(t)+1)
	prev := make([]int, len(t)+1)
	cur := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(t)]
}
