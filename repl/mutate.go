package repl

import (
	"errors"
	"fmt"
	"strings"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang"
)

// summary prints what a mutation did.
func (s *Session) summary(p *engine.Plan, res engine.Result, formatName string) error {
	key, line := "", ""
	n := res.Count
	switch {
	case p.Action == engine.ActFlush:
		key, line = "flushed", fmt.Sprintf("flushed the %s table", p.Table)
		n = 1
	case p.Dry:
		key = map[engine.Action]string{engine.ActDelete: "would_delete", engine.ActUpdate: "would_update"}[p.Action]
		line = fmt.Sprintf("would %s %s", map[engine.Action]string{engine.ActDelete: "delete", engine.ActUpdate: "update"}[p.Action], entries(n))
	default:
		key = map[engine.Action]string{engine.ActDelete: "deleted", engine.ActUpdate: "updated", engine.ActInsert: "inserted"}[p.Action]
		line = fmt.Sprintf("%s %s", key, entries(n))
		if res.FilteredFlush {
			line += " (one kernel-side filtered flush)"
		}
		if res.Batch.Gone > 0 {
			line += fmt.Sprintf(", %d already gone", res.Batch.Gone)
		}
		if p.IfAbsent {
			line += fmt.Sprintf(", %d existed", res.Batch.Exists)
		}
		if f := res.Batch.Failed + res.Batch.Unknown; f > 0 {
			line += fmt.Sprintf(", %d failed", f)
		}
	}
	if res.Unevaluated > 0 {
		line += fmt.Sprintf(", %d could not be evaluated: %s (first of %d)", res.Unevaluated, evalText(res.FirstEval), res.Unevaluated)
	}
	var err error
	switch {
	case p.Echo:
		// The entries are the statement's output, in its format; the
		// summary goes beside them, as conntrack's does.
		_, err = fmt.Fprintln(s.cfg.Stderr, "ctq: "+line)
	case format.KindOf(formatName) == format.KindJSON && p.IfAbsent:
		_, err = fmt.Fprintf(s.cfg.Stdout, "{%q:%d,\"existed\":%d,\"failed\":%d}\n", key, n, res.Batch.Exists, res.Batch.Failed+res.Batch.Unknown)
	case format.KindOf(formatName) == format.KindJSON:
		_, err = fmt.Fprintf(s.cfg.Stdout, "{%q:%d,\"gone\":%d,\"failed\":%d,\"errors\":%d}\n", key, n, res.Batch.Gone, res.Batch.Failed+res.Batch.Unknown, res.Unevaluated)
	default:
		_, err = fmt.Fprintln(s.cfg.Stdout, line)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// evalText is a run-time error of a condition on one line: "MSG at
// LINE:COL" for the language's errors (without the source line and caret).
func evalText(err error) string {
	var le *lang.Error
	if errors.As(err, &le) {
		return fmt.Sprintf("%s at %d:%d", strings.TrimPrefix(le.Msg, "runtime error: "), le.Line, le.Col)
	}
	msg, _, _ := strings.Cut(fmt.Sprint(err), "\n")
	return msg
}

// entries is "1 entry" or "N entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return fmt.Sprintf("%d entries", n)
}
