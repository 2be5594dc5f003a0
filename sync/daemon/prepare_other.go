//go:build !linux

package daemon

import (
	"context"
	"fmt"

	"ctq/engine"
)

// prepare refuses: a sync node replicates the kernel's conntrack table,
// which only Linux has.
func prepare(*Config) (func(ctx context.Context) error, error) {
	return nil, fmt.Errorf("sync node: %w", engine.ErrUnsupported)
}
