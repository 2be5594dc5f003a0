// Package daemon assembles a whole sync node, as conntrackd's sync mode
// runs: it checks the configuration, takes its LockFile, opens its log
// (LogFile, Syslog), applies its Scheduler, opens the dedicated links (in
// a network namespace if asked), builds the node on the kernel table,
// serves the control socket that sync/control's clients talk to, and
// tells systemd when the node is ready and alive (sd_notify, watchdog).
//
// Run runs a node in the foreground; Start runs one in the background and
// returns a Node to stop it. LoadConfig reads and checks a configuration.
package daemon
