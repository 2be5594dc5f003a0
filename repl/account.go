package repl

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"ctq/engine"
	"ctq/engine/account"
	"ctq/lang"
)

// account runs an account statement with account.Run: destroyed entries
// go to the file, appended, until ctx ends (or the for duration passes).
// SIGHUP reopens the file (for logrotate).
func (s *Session) account(ctx context.Context, st *lang.AccountStep) error {
	src, err := s.source()
	if err != nil {
		return err
	}
	if _, ok := src.(engine.EventSource); !ok {
		return fmt.Errorf("account: the live kernel has the events, not the saved table %s", s.cfg.From)
	}
	p, err := st.Watch.Plan(s.vars)
	if err != nil {
		return err
	}
	name := st.Watch.Format
	if name == "" {
		name = account.DefaultFormat
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	_, err = account.Run(ctx, account.Config{
		Source:   src,
		Plan:     p,
		Path:     st.Path,
		Format:   name,
		Options:  s.formatOptions(name),
		ProgName: engine.ProgNames(s.src),
		Resync:   st.Resync,
		Reopen:   hup,
		Stderr:   s.cfg.Stderr,
	})
	return err
}
