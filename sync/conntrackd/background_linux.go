package conntrackd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"ctq/sync/daemon"
)

// readyEnv names the environment variable that tells the background
// process which descriptor to report its start on.
const readyEnv = "CTQ_CONNTRACKD_READY_FD"

// readyWord is what the background process reports once its node runs.
const readyWord = "ready"

// isChild reports whether this process is the background process of a
// conntrackd -d.
func isChild() bool { return os.Getenv(readyEnv) != "" }

// childReady is the descriptor on which the background process reports
// its start, nil if there is none.
func childReady() *os.File {
	fd, err := strconv.Atoi(os.Getenv(readyEnv))
	if err != nil || fd < 3 {
		return nil
	}
	return os.NewFile(uintptr(fd), "ready")
}

// StartBackground runs `conntrackd args` (this executable, named
// conntrackd) in a new session with its standard input and outputs on
// /dev/null (it changes to / once ready, as conntrackd does), and returns once its node is ready (lock file taken, control
// socket listening), as conntrackd -d's parent returns after its
// initialisation, or with the reason it did not start.
func StartBackground(args []string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this executable: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("daemonise: %w", err)
	}
	defer r.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		w.Close()
		return fmt.Errorf("daemonise: %w", err)
	}
	defer null.Close()
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        append([]string{"conntrackd"}, args...),
		Env:         append(os.Environ(), readyEnv+"=3"),
		Stdin:       null,
		Stdout:      null,
		Stderr:      null,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return fmt.Errorf("fork has failed: %w", err)
	}
	if nt := daemon.SystemdNotifier(); nt != nil {
		// conntrackd's sd_ct_mainpid: under systemd the background
		// process is the service's main process, whose READY=1 counts.
		nt.Notify("MAINPID=" + strconv.Itoa(cmd.Process.Pid))
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == readyWord {
		cmd.Process.Release()
		return nil
	}
	cmd.Wait()
	if line == "" {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("it ended before it was ready")
		}
		return fmt.Errorf("conntrackd cannot start: %w", err)
	}
	return errors.New(line)
}
