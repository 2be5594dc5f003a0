package conntrackd

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"ctq/sync/config"
	"ctq/sync/control"
)

// Env is what Main runs with: the program's name and output, and how it
// starts itself in the background (-d).
type Env struct {
	// Prog is the program name in the usage ("conntrackd", or "ctq
	// conntrackd").
	Prog string
	// Stdout and Stderr receive conntrackd's output and messages.
	Stdout, Stderr io.Writer
	// Now is the clock of the messages; nil means time.Now.
	Now func() time.Time
	// Background runs the node of args in a background process and
	// returns once it is ready, or with why it did not start (see
	// StartBackground); nil means StartBackground.
	Background func(args []string) error
}

// Main runs conntrackd's command line args (without the program name) as
// conntrackd 1.4.7 does, and returns the exit code: the client options
// send their request to the running daemon; without them the node of the
// configuration runs in the foreground until ctx ends or a client stops
// it, or with -d in the background.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Background == nil {
		env.Background = StartBackground
	}
	con := &console{stdout: env.Stdout, stderr: env.Stderr, now: env.Now, pid: os.Getpid(), prog: env.Prog}
	cmd := Parse(args)
	con.print(cmd.Out)
	if cmd.Mode == ModeExit {
		return cmd.Exit
	}
	path := cmd.Config
	if path == "" {
		path = DefaultConfig
	}
	cfg, err := config.ParseFile(path)
	if err != nil {
		var cerr *config.Error
		if errors.As(err, &cerr) {
			con.log(LevelError, cerr.Error())
		} else {
			con.log(LevelError, "can't open config file `"+path+"'")
		}
		return 1
	}
	for _, w := range cfg.Warnings {
		con.log(LevelWarning, w.String())
	}
	cfg.Warnings = nil
	if cmd.Mode == ModeRequest {
		return request(ctx, con, cfg, cmd.Code)
	}
	if err := runnable(cfg); err != nil {
		con.log(LevelError, err.Error())
		con.log(LevelError, "conntrackd cannot start, please review your configuration")
		return 1
	}
	if cmd.Background && !isChild() {
		if err := env.Background(args); err != nil {
			con.log(LevelError, err.Error())
			return 1
		}
		return 0
	}
	return run(ctx, con, cfg, cmd.Background)
}

// request sends code to the daemon of cfg and prints the reply.
func request(ctx context.Context, con *console, cfg *config.Config, code int32) int {
	if cfg.General.UnixPath == "" {
		con.log(LevelError, "can't connect: is conntrackd running? appropriate permissions?")
		return 1
	}
	err := control.Client{Path: cfg.General.UnixPath}.Conntrackd(ctx, code, con.stdout)
	var remote *control.RemoteError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &remote):
		// The daemon's ERROR: line is printed already.
		return 1
	case isDial(err):
		con.log(LevelError, "can't connect: is conntrackd running? appropriate permissions?")
		return 1
	}
	con.log(LevelError, err.Error())
	return 1
}

// runnable checks that cfg configures a node this front end runs: a sync
// node with a control socket, or conntrackd's statistics mode.
func runnable(cfg *config.Config) error {
	switch {
	case !cfg.HasSync && cfg.StatsLine > 0:
		return nil
	case !cfg.HasSync:
		return &config.Error{File: cfg.File, Msg: "no Sync section"}
	case cfg.General.UnixPath == "":
		return &config.Error{File: cfg.File, Msg: "no control socket (General { UNIX { Path ... } })"}
	}
	return nil
}

// isDial reports an error connecting to the daemon.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
