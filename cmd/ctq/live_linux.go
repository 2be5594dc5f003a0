package main

import (
	"ctq/engine"
	"ctq/engine/ctnetlink"
)

// liveOpener is how ctq opens the live conntrack tables of a network
// namespace (empty: its own): over ctnetlink.
func liveOpener() func(netns string) (engine.Source, error) {
	return func(netns string) (engine.Source, error) {
		return ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: netns})
	}
}
