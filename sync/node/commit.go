//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/sync/cache"
)

const (
	// commitWorkers is how many batches a commit runs at once: the kernel
	// inserts on the CPU of the sending thread, so two sockets use two
	// CPUs.
	commitWorkers = 2
	// commitChunk is how many entries a commit worker copies out of the
	// external cache at a time (in the loop, while the other worker's
	// requests go to the kernel).
	commitChunk = 1024
)

// CommitResult reports a commit.
type CommitResult struct {
	// Entries is the number of external-cache entries committed.
	Entries int
	// Replaced counts kernel entries of the same keys that were removed
	// first; Created the entries made; Failed those the kernel refused,
	// with the first few errors in Errors.
	Replaced, Created, Failed int
	// ExpectEntries is the number of external expectations committed
	// (ExpectationSync), after the flows; ExpectReplaced, ExpectCreated
	// and ExpectFailed count them as Replaced, Created and Failed do the
	// flows. Errors holds the first few errors of both.
	ExpectEntries                               int
	ExpectReplaced, ExpectCreated, ExpectFailed int
	Errors                                      []error
	// Duration is how long the kernel writes took.
	Duration time.Duration
}

// addErrors keeps the first few errors.
func (r *CommitResult) addErrors(errs []error) {
	for _, err := range errs {
		if len(r.Errors) < maxCommitErrors {
			r.Errors = append(r.Errors, err)
		}
	}
}

// maxCommitErrors is how many errors a CommitResult keeps.
const maxCommitErrors = 10

// Commit writes the external cache into the kernel table, as
// `conntrackd -c` does: each entry without IPS_EXPECTED, with the reply
// tuple rebuilt from the original one and the NAT attributes, a TCP entry
// with window tracking relaxed (be liberal), and the timeout CommitTimeout
// or else the received timeout less the time since the entry was received
// (60 s when that is not positive). An entry the kernel already has
// (EEXIST) is deleted and created again, as conntrackd does, but entry by
// entry, each delete followed at once by its create (see replace). The external
// cache is not emptied. With ExpectationSync the external expectations
// are created afterwards (see commitExpect).
//
// The entries are copied out of the cache a chunk at a time and created
// by two batches at once. While they are, the node's kernel watch is out
// of the NEW and DESTROY groups, so that the kernel does not build an
// event per committed entry (which doubles its cost of a create); it
// stays in UPDATE, which keeps the kernel giving new entries an event
// record. Afterwards the loop reads the table again, as after lost
// events: the committed entries enter the internal cache without being
// advertised (the peer sent them), and whatever else changed meanwhile is
// advertised.
//
// tables limits the commit to the flows or to the expectations (-c ct,
// -c expect).
func (n *Node) Commit(ctx context.Context, tables Tables) (CommitResult, error) {
	n.commitMu.Lock()
	defer n.commitMu.Unlock()
	var (
		entries []*cache.Entry
		exps    []*cache.ExpectEntry
		now     time.Time
	)
	err := n.do(ctx, func() {
		n.cancelPurge() // as conntrackd's -c cancels a pending -t
		now = n.clock.Now()
		if tables.flows() {
			entries = n.external.Live()
		}
		if tables.expects() {
			exps = n.externalExp.Live()
		}
	})
	res := CommitResult{Entries: len(entries), ExpectEntries: len(exps)}
	if err != nil {
		return res, err
	}
	if len(entries)+len(exps) == 0 {
		n.logf(slog.LevelInfo, "commit: nothing to commit (the external cache is empty)")
		return res, nil
	}
	start := n.clock.Now()
	const quiet = engine.EventNew | engine.EventDestroy
	if n.sub != nil { // nil in polling mode: no event socket
		if err := n.sub.Leave(quiet); err != nil {
			return res, fmt.Errorf("commit: %w", err)
		}
	}
	var werr error
	if len(entries) > 0 {
		werr = n.write(ctx, entries, now, &res)
	}
	if werr == nil {
		werr = n.commitExpect(ctx, exps, now, &res)
	}
	var jerr error
	if n.sub != nil {
		jerr = n.sub.Join(quiet)
	}
	res.Duration = n.clock.Now().Sub(start)
	var derr error
	select {
	case n.recommitted <- struct{}{}:
	case <-n.stopped:
		derr = ErrStopped
	case <-ctx.Done():
		derr = ctx.Err()
	}
	n.logCommit(&res, werr)
	switch {
	case werr != nil:
		return res, werr
	case jerr != nil:
		return res, fmt.Errorf("commit: kernel events: %w", jerr)
	case derr != nil:
		return res, fmt.Errorf("commit: read the table again: %w", derr)
	}
	return res, nil
}

// write creates the entries, split between commitWorkers batches, then
// replaces those the kernel had already.
func (n *Node) write(ctx context.Context, entries []*cache.Entry, now time.Time, res *CommitResult) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		exists []*cache.Entry
		first  error
	)
	per := (len(entries) + commitWorkers - 1) / commitWorkers
	for lo := 0; lo < len(entries); lo += per {
		part := entries[lo:min(lo+per, len(entries))]
		wg.Go(func() {
			st, ex, err := n.create(ctx, part, now)
			mu.Lock()
			defer mu.Unlock()
			res.Created += st.Done
			res.Failed += st.Failed + st.Unknown - len(ex)
			res.addErrors(withoutExists(st.Errors))
			exists = append(exists, ex...)
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	if first != nil {
		return fmt.Errorf("commit: create entries: %w", first)
	}
	if len(exists) == 0 {
		return nil
	}
	return n.replace(ctx, exists, now, res)
}

// create creates the committed form of entries in one batch, copying them
// out of the cache commitChunk at a time, and returns the batch's stats
// and the entries the kernel had already (EEXIST).
func (n *Node) create(ctx context.Context, entries []*cache.Entry, now time.Time) (engine.BatchStats, []*cache.Entry, error) {
	var (
		sent    []*cache.Entry // by request number
		exists  []*cache.Entry
		bad     int // entries that cannot be encoded
		badErrs []error
	)
	b, err := n.kernel.OpenBatch(ctx, ctnetlink.BatchConfig{Failed: func(req int, err error) {
		if errors.Is(err, unix.EEXIST) {
			exists = append(exists, sent[req])
		}
	}})
	if err != nil {
		return engine.BatchStats{}, nil, err
	}
	buf := make([]engine.Flow, 0, commitChunk)
	for lo := 0; lo < len(entries); lo += commitChunk {
		chunk := entries[lo:min(lo+commitChunk, len(entries))]
		buf = buf[:0]
		from := len(sent)
		if err := n.do(ctx, func() {
			for _, e := range chunk {
				if e.InCache() && !e.Dead() {
					buf = append(buf, n.committed(e, now))
					sent = append(sent, e)
				}
			}
		}); err != nil {
			b.Close()
			return engine.BatchStats{}, nil, err
		}
		// sent holds the chunk's entries from index from on; an entry
		// that cannot be encoded leaves it (it took no request number).
		kept := from
		for i := range buf {
			sent[kept] = sent[from+i]
			err := b.Create(&buf[i])
			switch {
			case errors.Is(err, ctnetlink.ErrUnencodable):
				bad++
				if len(badErrs) < maxCommitErrors {
					badErrs = append(badErrs, err)
				}
				continue
			case err != nil:
				b.Close()
				return engine.BatchStats{}, nil, err
			}
			kept++
		}
		clear(sent[kept:])
		sent = sent[:kept]
	}
	st, err := b.Close()
	st.Failed += bad
	st.Errors = append(badErrs, st.Errors...)
	return st, exists, err
}

// replaceRounds bounds how many times replace tries an entry that a
// packet re-created between its delete and its create.
const replaceRounds = 3

// replace replaces the kernel's entries of the keys of entries, one entry
// at a time: each delete is followed at once by the create of the same key
// (one batch of pairs, not all deletes then all creates), so the kernel is
// without each entry for the time between two requests of one message.
// A packet that re-creates the entry in that gap makes the create fail
// with EEXIST; such entries go round again, up to replaceRounds times.
func (n *Node) replace(ctx context.Context, entries []*cache.Entry, now time.Time, res *CommitResult) error {
	var flows []engine.Flow
	if err := n.do(ctx, func() {
		for _, e := range entries {
			if e.InCache() && !e.Dead() {
				flows = append(flows, n.committed(e, now))
			}
		}
	}); err != nil {
		return err
	}
	for round := 1; len(flows) > 0; round++ {
		var (
			again                 []engine.Flow // created again by a packet meanwhile
			notDeleted, creFailed int
			errs                  []error
		)
		last := round == replaceRounds
		// Requests alternate: 2i deletes flows[i], 2i+1 creates it.
		b, err := n.kernel.OpenBatch(ctx, ctnetlink.BatchConfig{Failed: func(req int, err error) {
			switch {
			case req%2 == 0:
				// Failed, or gone by itself (ENOENT): not replaced,
				// and the create goes on either way.
				notDeleted++
			case errors.Is(err, unix.EEXIST) && !last:
				again = append(again, flows[req/2])
			default:
				creFailed++
				errs = append(errs, err)
			}
		}})
		if err != nil {
			return fmt.Errorf("commit: replace existing entries: %w", err)
		}
		for i := range flows {
			if err := b.Delete(&flows[i]); err != nil {
				b.Close()
				return fmt.Errorf("commit: replace existing entries: %w", err)
			}
			if err := b.Create(&flows[i]); err != nil {
				b.Close()
				return fmt.Errorf("commit: replace existing entries: %w", err)
			}
		}
		st, err := b.Close()
		res.Replaced += len(flows) - notDeleted
		res.Created += len(flows) - len(again) - creFailed - st.Unknown
		res.Failed += creFailed + st.Unknown
		res.addErrors(errs)
		if err != nil {
			return fmt.Errorf("commit: replace existing entries: %w", err)
		}
		flows = again
	}
	return nil
}

// committed is the entry as a commit creates it.
func (n *Node) committed(e *cache.Entry, now time.Time) engine.Flow {
	f := e.Flow
	f.SetStatus(f.Status &^ engine.StatusExpected)
	f.Timeout = e.CommitTimeout(now, n.cfg.Sync.CommitTimeout)
	f.Has |= engine.HasTimeout
	return f
}

// withoutExists drops the EEXIST errors: those entries are replaced.
func withoutExists(errs []error) []error {
	var out []error
	for _, err := range errs {
		if !errors.Is(err, unix.EEXIST) {
			out = append(out, err)
		}
	}
	return out
}

// batch runs op on every flow in one kernel batch.
func (n *Node) batch(ctx context.Context, flows []engine.Flow, op func(engine.Batch, *engine.Flow) error) (engine.BatchStats, error) {
	b, err := n.kernel.NewBatch(ctx)
	if err != nil {
		return engine.BatchStats{}, err
	}
	for i := range flows {
		if err := op(b, &flows[i]); err != nil {
			b.Close()
			return engine.BatchStats{}, err
		}
	}
	return b.Close()
}
