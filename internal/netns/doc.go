// Package netns names the network namespaces of `ip netns` and runs code
// inside one: the one place that knows where ip(8) keeps them.
package netns
