// Package control is the control socket of a running sync node: a server
// on the UNIX stream socket of the configuration's General { UNIX { Path } }
// and its client.
//
// The server speaks two protocols on the one socket. conntrackd's: its
// client (conntrackd -C CONF -c, -f, -F, -R, -B, -n, -t, -i, -e, -x, -s,
// -k) sends a native-endian 32-bit request code and prints the text that
// comes back until the socket closes (conntrackd.go maps the codes), so
// failover scripts written for conntrackd drive a ctq node unchanged. And
// ctq's own, line-based, which ctq's sync statements use: a client
// connects, sends one request line and reads the reply; the connection
// then closes. The first byte tells them apart (a verb starts with a
// lowercase letter, conntrackd's codes are below 49).
//
//	request  = VERB [" " ARG] "\n"
//	reply    = "OK\n" *(BODYLINE "\n") END "\n"
//	         | "ERR " MESSAGE "\n"
//	END      = "." | ".ERR " MESSAGE
//
// The body streams: a dump of a large cache goes out as it is read, and a
// failure on the way ends it with ".ERR". A body line that starts with a
// dot is sent with one more dot in front (the client removes it). The
// verbs and their arguments are package verb's Request verbs (the table
// ctq's sync statement reads too); what conntrackd option each stands for:
//
//	status                          -s
//	commit                          -c
//	flush [internal|external]       -f (both caches without an argument)
//	flush kernel                    -F
//	resync                          -n
//	refresh                         -R
//	bulk                            -B
//	purge                           -t
//	dump internal|external          -i, -e (conntrack's text format)
//	dump internal|external expect   -i expect, -e expect
//	stop                            -k
//	metrics                         (ctq's) the counters as Prometheus samples
//
// The socket file is 0600, and the server checks every connection's peer
// credentials (SO_PEERCRED): root and the node's own user are answered,
// anyone else gets an error and is counted (status, metrics, the log).
//
// A request line is at most MaxRequest bytes. A client waits for a node
// that stops answering no longer than its idle deadline (Client.Timeout;
// DefaultTimeout, LongTimeout for the requests that work on the whole
// kernel table first), then fails with a *TimeoutError.
package control
