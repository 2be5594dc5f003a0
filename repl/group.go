package repl

import (
	"context"
	"fmt"

	"ctq/engine"
	"ctq/engine/format"
)

// group runs a grouping (count by, top, sum, min, max, avg) and prints one
// row a group, largest first, in format formatName (see
// format.WriteGroups). cols names the keys and the value.
func (s *Session) group(ctx context.Context, src engine.Source, p *engine.Plan, cols []string, formatName string) error {
	groups, res, err := engine.Aggregate(ctx, src, p)
	s.warn(res.Stats)
	if err != nil {
		return fmt.Errorf("%s: %w", cols[len(cols)-1], err)
	}
	return format.WriteGroups(s.cfg.Stdout, formatName, cols, groups)
}
