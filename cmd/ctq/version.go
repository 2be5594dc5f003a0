package main

import (
	"runtime/debug"
	"strings"
)

// stampedVersion is set at build time:
//
//	go build -ldflags "-X main.stampedVersion=1.2.3" ./cmd/ctq
//
// Empty, the version comes from the build information Go records.
var stampedVersion string

// versionString is what ctq -V prints after "ctq ": the stamped version,
// else the module version of a `go install ctq/cmd/ctq@VERSION`, else the
// VCS revision of the checkout it was built from (with "+dirty" for
// uncommitted changes), else "devel".
func versionString() string {
	if stampedVersion != "" {
		return stampedVersion
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return fromBuildInfo(info)
}

// fromBuildInfo picks the version out of Go's build information.
func fromBuildInfo(info *debug.BuildInfo) string {
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	var b strings.Builder
	b.WriteString("devel-")
	b.WriteString(rev[:min(12, len(rev))])
	if dirty {
		b.WriteString("+dirty")
	}
	if at != "" {
		b.WriteString(" (" + at + ")")
	}
	return b.String()
}
