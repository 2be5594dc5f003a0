//go:build !linux

package conntrackd

import (
	"context"
	"errors"

	"ctq/sync/config"
)

// startStats needs Linux.
func startStats(context.Context, *config.Config, *nodeLog) (node, error) {
	return nil, errors.New("the statistics mode needs Linux")
}
