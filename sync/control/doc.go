// Package control is the control socket of a running sync node: a server
// on the UNIX stream socket of the configuration's General { UNIX { Path } }
// and its client.
//
// The protocol is ctq's own and line-based (conntrackd's binary control
// protocol is not spoken). A client connects, sends one request line and
// reads the reply; the connection then closes.
//
//	request  = VERB [" " ARG] "\n"
//	reply    = "OK\n" *(BODYLINE "\n") END "\n"
//	         | "ERR " MESSAGE "\n"
//	END      = "." | ".ERR " MESSAGE
//
// The body streams: a dump of a large cache goes out as it is read, and a
// failure on the way ends it with ".ERR". A body line that starts with a
// dot is sent with one more dot in front (the client removes it). The
// verbs and what conntrackd option each stands for:
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
//
// A request line is at most MaxRequest bytes.
package control
