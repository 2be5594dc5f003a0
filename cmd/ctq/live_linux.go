package main

import (
	"ctq/engine"
	"ctq/engine/ctnetlink"
)

// openLive opens the live conntrack tables of a network namespace (empty:
// ctq's own) over ctnetlink.
func openLive(netns string) (engine.Source, error) {
	return ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: netns})
}
