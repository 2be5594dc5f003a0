package engine

import (
	"context"
	"errors"
)

// Change is what an update does to one entry. Only the parts whose Set*
// flag is on (or whose label sets are non-empty) are sent to the kernel.
type Change struct {
	SetMark bool
	Mark    uint32
	// SetTimeout replaces the remaining timeout (seconds).
	SetTimeout bool
	Timeout    uint32
	// SetStatus ORs these bits into the entry's status (the kernel accepts
	// SEEN_REPLY, ASSURED and FIXED_TIMEOUT; others fail per entry).
	SetStatus Status
	// AddLabels and DelLabels set and clear label bits.
	AddLabels, DelLabels Labels
	// SetState replaces the protocol state of a TCP, SCTP or DCCP entry
	// with StateNum (the kernel's number; conntrack -U --state).
	SetState bool
	StateNum int
}

// Empty reports whether c changes nothing.
func (c *Change) Empty() bool {
	return !c.SetMark && !c.SetTimeout && c.SetStatus == 0 && c.AddLabels.Empty() && c.DelLabels.Empty() && !c.SetState
}

// Mutator is implemented by sources whose entries can be changed (the live
// kernel). Changes are queued in a Batch and sent many to a message.
type Mutator interface {
	// NewBatch starts a batch of changes; nothing is guaranteed sent
	// before Close.
	NewBatch(ctx context.Context) (Batch, error)
	// Flush empties a table (TableConntrack or TableExpect); family
	// AF_UNSPEC flushes both families, AF_INET or AF_INET6 only that one
	// where the kernel can (an error where it cannot: it never flushes
	// more than asked).
	Flush(ctx context.Context, table Table, family int) error
	// FlushFilter deletes every conntrack entry that matches f exactly, in
	// one request, when the kernel applies every part of f to a flush. It
	// returns false, having done nothing, when it cannot guarantee that.
	FlushFilter(ctx context.Context, f *KernelFilter) (bool, error)
}

// Batch queues changes and sends them in batches, many requests per
// sendmsg, with one acknowledgement asked for per batch. A Batch is used by
// one goroutine.
type Batch interface {
	// Delete queues the deletion of f, identified by its original tuple,
	// zone and (when f.Has&HasID) its ID. The ID keeps the request from
	// an entry of that tuple that replaced f in other memory, but not from
	// one that reuses f's memory (the kernel's ID hashes the address and
	// the tuple), which a tuple re-created right away often does: only
	// the kernel's filtered flush checks a condition as it deletes.
	Delete(f *Flow) error
	// Update queues c for the entry f (identified as for Delete).
	Update(f *Flow, c Change) error
	// Create queues the creation of f (its tuples, timeout, status OR
	// IPS_CONFIRMED, state, mark, zone, labels).
	Create(f *Flow) error
	// Close sends what is queued, waits for every answer and reports.
	Close() (BatchStats, error)
}

// Sender is implemented by Batches that can send what they hold before it
// fills a message. A delete or update sends its requests in small groups
// (GuardGroup): the less time passes between reading an entry and the
// request that names it, the smaller the chance that the entry was
// replaced meanwhile by a new one the request then reaches (see
// Batch.Delete).
type Sender interface {
	// Send sends the queued requests now. Their answers may be read
	// later, while the caller queues more (Close reads them all).
	Send() error
}

// Observer is implemented by Batches that can report the outcome of each
// request (Plan.Echo needs it). Observing costs the batch nothing when
// nobody observes.
type Observer interface {
	// Observe makes the batch call fn once for each request, in the
	// order they were queued, with the request's number (0 for the first
	// request Delete, Update or Create queued) and its outcome: nil when
	// the kernel carried it out, else the kernel's error, or an error
	// matching ErrUnknownOutcome when its answer was lost
	// (BatchStats.Unknown). fn runs in a call of the batch's user
	// (Delete, Update, Create, CreateIfAbsent, Send or Close), some calls
	// after the one that queued the request; by the end of Close every
	// request sent has been reported.
	Observe(fn func(req int, err error))
}

// ErrUnknownOutcome is reported (Observer) for a request whose answer was
// lost: the kernel may or may not have carried it out.
var ErrUnknownOutcome = errors.New("the outcome of the request is unknown: its answer was lost")

// AbsentCreator is implemented by Batches whose creates can leave an
// entry that exists already alone (Plan.IfAbsent needs it).
type AbsentCreator interface {
	// CreateIfAbsent queues the creation of f as Create does; when the
	// entry exists already (EEXIST) it is left as it is, counted in
	// BatchStats.Exists and not as a failure.
	CreateIfAbsent(f *Flow) error
}

// GuardGroup is how many requests a delete or update queues before it
// sends them, when its Batch is a Sender.
const GuardGroup = 64

// BatchStats counts the outcome of a batch's requests.
type BatchStats struct {
	// Done counts requests the kernel carried out.
	Done int
	// Gone counts deletes and updates of entries that no longer existed
	// (ENOENT): benign, the entry went away by itself.
	Gone int
	// Exists counts creates of an IfAbsent insert that found the entry
	// there already (EEXIST), left as it was.
	Exists int
	// Failed counts other failures; Errors holds the first few of them.
	Failed int
	Errors []error
	// Unknown counts requests whose outcome could not be read (the answers
	// overflowed the socket buffer); they are neither Done nor Failed.
	Unknown int
}
