//go:build !linux

package main

import "ctq/engine"

// liveOpener is nil: only Linux has live conntrack tables, and a session
// without an opener says so (engine.ErrUnsupported); saved tables (--from)
// can be queried anywhere.
func liveOpener() func(netns string) (engine.Source, error) { return nil }
