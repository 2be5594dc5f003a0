package daemon

import (
	"fmt"
	"os"

	"ctq/sync/config"
)

// DefaultConfigPaths are the configuration files LoadConfig reads without
// a path: the first that exists.
func DefaultConfigPaths() []string {
	return []string{"/etc/ctq/sync.conf", "/etc/conntrackd/conntrackd.conf"}
}

// LoadConfig reads and checks the configuration of a sync node: path, or
// without one the first of DefaultConfigPaths that exists. It must
// configure a node (a Sync section; a conntrackd.conf of the statistics
// mode gets what to use instead) with a control socket, through which
// the node's clients reach it. Errors in the file are *config.Error.
func LoadConfig(path string) (*config.Config, error) {
	path, err := configPath(path)
	if err != nil {
		return nil, err
	}
	cfg, err := config.ParseFile(path)
	if err == nil {
		err = needSync(cfg)
	}
	if err != nil {
		return nil, err
	}
	if cfg.General.UnixPath == "" {
		return nil, fmt.Errorf("%s has no control socket (General { UNIX { Path ... } })", path)
	}
	return cfg, nil
}

// configPath is path, or without one the first default file that exists.
func configPath(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	defaults := DefaultConfigPaths()
	for _, p := range defaults {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no configuration given and none of %v exists", defaults)
}

// needSync checks that cfg configures a sync node: a conntrackd.conf of
// the statistics mode (a Stats section) gets what to use instead.
func needSync(cfg *config.Config) error {
	switch {
	case cfg.HasSync:
		return nil
	case cfg.StatsLine > 0:
		return &config.Error{File: cfg.File, Line: cfg.StatsLine, Msg: "Stats is conntrackd's statistics mode, not sync: " +
			"ctq logs ended flows with `account \"FILE\"` (conntrackd's Stats LogFile) and shows the table with `list` and `stats`; " +
			"`ctq conntrackd -C FILE` runs this file as conntrackd does"}
	}
	return &config.Error{File: cfg.File, Msg: "no Sync section: a sync node needs Sync { Mode FTFW|NOTRACK|ALARM { } and a UDP, Multicast or TCP block }"}
}
