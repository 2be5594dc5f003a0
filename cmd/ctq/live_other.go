//go:build !linux

package main

import (
	"fmt"

	"ctq/engine"
)

// openLive refuses: only Linux has live conntrack tables; saved ones
// (--from) can be queried anywhere.
func openLive(string) (engine.Source, error) {
	return nil, fmt.Errorf("open live source: %w", engine.ErrUnsupported)
}
