package config

import "strconv"

// Error is a fault in a configuration file, at a line.
type Error struct {
	File string
	Line int
	Msg  string
}

// Error formats the fault as FILE:LINE: message.
func (e *Error) Error() string {
	return posString(e.File, e.Line) + e.Msg
}

// posString is "FILE:LINE: ", or "FILE: " when the line is unknown.
func posString(file string, line int) string {
	if line <= 0 {
		return file + ": "
	}
	return file + ":" + strconv.Itoa(line) + ": "
}
