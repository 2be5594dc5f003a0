package netns

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Dir is where `ip netns` keeps its named namespaces: a file a namespace,
// bind-mounted there by `ip netns add NAME`.
const Dir = "/var/run/netns"

// Path is the namespace file of the namespace name as `ip netns` knows it.
// A name that is not a single file name (empty, with a slash, "." or
// "..") is an error.
func Path(name string) (string, error) {
	if name == "" || strings.ContainsRune(name, '/') || name == "." || name == ".." {
		return "", fmt.Errorf("invalid network namespace name %q", name)
	}
	return filepath.Join(Dir, name), nil
}
