// Package verb is the one table of the sync verbs: the actions of ctq's
// sync statement and the requests of the sync node's control protocol,
// each with the arguments it takes. The statement parser (lang), the
// control protocol (sync/control), help and completion (repl) all read it.
//
// It imports nothing but the standard library, so that the language
// package can use it without pulling in the sync node's sockets.
package verb
