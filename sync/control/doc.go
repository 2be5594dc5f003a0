// Package control is the control socket of a running sync node: a server
// on the UNIX stream socket of the configuration's General { UNIX { Path } }
// and its client.
//
// The protocol is ctq's own and line-based (conntrackd's binary control
// protocol is not spoken). A client connects, sends one request line and
// reads the reply; the connection then closes.
//
//	request  = VERB [" " ARG] "\n"
//	reply    = "OK " COUNT "\n" COUNT*(LINE "\n")
//	         | "ERR " MESSAGE "\n"
//
// The verbs are status, commit, flush, resync, dump (ARG internal or
// external) and stop. COUNT is the number of body lines that follow, in
// decimal; the body is text meant for a person (status and commit) or
// flows in conntrack's text format (dump). A request line is at most
// MaxRequest bytes.
package control
