// Package config reads conntrackd.conf, the configuration file of
// conntrackd 1.4.7, so that an existing file works unchanged with ctq's
// sync node.
//
// The grammar is conntrackd's: sections and keys are case-sensitive words
// ("Sync", "HashSize"), a section or list opens with '{' and closes with
// '}', a comment runs from '#' to the end of the line, and line breaks are
// plain white space (UNIX { Path /run/ctd.sock } on one line is fine).
// Booleans are on/off or yes/no in any letter case; mode names (FTFW,
// NOTRACK, ALARM and the old aliases NACK and PERSISTENT) too.
//
// Parse returns a typed Config holding conntrackd's defaults for every key
// the file does not set. A key conntrackd does not know, a value of the
// wrong form, a missing or extra brace is an *Error naming the file and
// line ("conntrackd.conf:12: unknown key \"Prot\" in section UDP"). Keys
// conntrackd accepts but ctq does not act on (Nice, Scheduler, Systemd,
// the Stats and Helper sections, ...) are accepted and listed in
// Config.Warnings with their line, as are the values conntrackd itself
// only warns about (an unknown protocol name in a Filter).
package config
