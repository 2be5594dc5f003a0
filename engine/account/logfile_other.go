//go:build !unix

package account

import "os"

// openFlags: without O_NOFOLLOW, openAppend's Lstat check refuses a
// symbolic link.
const openFlags = 0

func isLoop(error) bool { return false }

func isNoReader(error) bool { return false }

func blocking(*os.File) error { return nil }
