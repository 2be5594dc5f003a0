// Package conntrackd is a drop-in front end for conntrackd 1.4.7: its
// command line (-C CONF, -d, -v, -h and the client options -c -f -F -R -B
// -n -t -i -e -s -k -x), its messages, their format and its exit codes,
// so that scripts and systemd units written for conntrackd run unchanged
// with ctq installed (or linked) as conntrackd.
//
// Without a client option it runs the node of the configuration
// (sync/daemon), in the foreground, or in the background with -d: the
// command then returns once the node is ready (lock file taken, control
// socket listening), as conntrackd's parent process does after its
// initialisation. A configuration with a Stats section runs conntrackd's
// statistics mode: a flow log of the entries that end, in conntrackd's
// format, and its -s, -s cache, -s runtime, -i, -f and -k. The client options send conntrackd's request codes to
// the daemon of the configuration's General { UNIX { Path } }, ctq's node
// or conntrackd itself (sync/control's Client.Conntrackd), and print the
// reply as it comes.
//
// One difference is deliberate: conntrackd's client exits 0 whatever the
// daemon answers, but this one exits 1 when ctq's node reports that a
// request failed (a commit the kernel refused entries of, a flush that
// failed), so that a failover script can tell.
//
// Parse reads a command line as conntrackd's main() does, quirks
// included (only the second character of each argument is looked at; an
// unknown option prints the usage and exits 0); Main runs one.
package conntrackd
