//go:build !linux

package conntrackd

import (
	"errors"
	"os"
)

const readyWord = "ready"

func isChild() bool { return false }

func childReady() *os.File { return nil }

// StartBackground is -d, which needs Linux.
func StartBackground([]string) error {
	return errors.New("daemon mode needs Linux")
}
