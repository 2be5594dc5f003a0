package verb

import "strings"

// Usage returns the forms of the verbs of use for a usage line, one a
// group of verbs that take the same arguments and have the same uses, in
// help order: "run|start", "commit|refresh [conntrack|expect]", "dump
// internal|external [expect]", ...
func Usage(use Use) []string {
	var forms []string
	var groups [][]string // the verbs of each form
	type key struct {
		args string
		use  Use
	}
	var keys []key
	for _, v := range verbs {
		if v.Use&use == 0 {
			continue
		}
		k := key{v.usage(""), v.Use}
		i := 0
		for i < len(keys) && keys[i] != k {
			i++
		}
		if i == len(keys) {
			keys = append(keys, k)
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], v.Name)
	}
	for i, k := range keys {
		forms = append(forms, strings.TrimSpace(strings.Join(groups[i], "|")+" "+k.args))
	}
	return forms
}

// usage is the grammar of the argument words that may follow arg:
// alternatives joined by "|", in brackets when they may be left out, the
// words after each written once when all alternatives share them.
func (v Verb) usage(arg string) string {
	words, done := v.Next(arg)
	if len(words) == 0 {
		return ""
	}
	subs := make([]string, len(words))
	same := true
	for i, w := range words {
		subs[i] = v.usage(strings.TrimSpace(arg + " " + w))
		same = same && subs[i] == subs[0]
	}
	var s string
	if same {
		s = strings.TrimSpace(strings.Join(words, "|") + " " + subs[0])
	} else {
		alts := make([]string, len(words))
		for i, w := range words {
			alts[i] = strings.TrimSpace(w + " " + subs[i])
		}
		s = strings.Join(alts, "|")
	}
	if done {
		return "[" + s + "]"
	}
	return s
}
