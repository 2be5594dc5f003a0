//go:build linux

package ctnetlink_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/engine/format"
	"ctq/lang"
)

// Delete the SSH flows of a network namespace's live table, as
// `ctq --netns fw1 -e 'delete where ...'` does: one compiled plan, run by
// engine.Exec on the live source, in batches.
func ExampleOpenLive() {
	live, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: "fw1"})
	if err != nil {
		log.Fatal(err) // wraps engine.ErrPermission without CAP_NET_ADMIN
	}
	defer live.Close()
	plans, err := lang.CompileScript(`delete where proto == tcp and dport == 22 and state == "ESTABLISHED"`, nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := engine.Exec(context.Background(), live, plans[0], nil, nil)
	if err != nil {
		log.Fatal(err) // a *engine.MutationError says which requests failed
	}
	fmt.Printf("deleted %d, %d already gone\n", res.Batch.Done, res.Batch.Gone)
}

// Stream a minute of new UDP flows as conntrack -E prints them; lost
// events are counted in Result.Watch.Overflows.
func ExampleLive_Watch() {
	live, err := ctnetlink.OpenLive(nil)
	if err != nil {
		log.Fatal(err)
	}
	defer live.Close()
	plans, err := lang.CompileScript(`watch new where proto == udp for 1m`, nil)
	if err != nil {
		log.Fatal(err)
	}
	w, err := format.NewEvents("text", os.Stdout, format.EventOptions{ProgName: live.ProgName})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := engine.Exec(ctx, live, plans[0], engine.EventsTo(w), nil)
	if err != nil {
		log.Fatal(err)
	}
	if res.Watch.Overflows > 0 {
		log.Fatalf("%d kernel overflows: events were lost", res.Watch.Overflows)
	}
}
