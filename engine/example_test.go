package engine_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/engine/snapshot"
	"ctq/lang"
)

// Compile a statement with lang and run it with Exec against a table saved
// with `conntrack -L -o save`: no kernel and no privileges needed.
func ExampleExec() {
	plans, err := lang.CompileScript(`list where proto == tcp and dport == 22`,
		&lang.Options{Formats: format.Names()})
	if err != nil {
		log.Fatal(err) // a *lang.Error: line, column and what is wrong
	}
	src, err := snapshot.Open("testdata/table.save", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()

	w, err := format.New("text", os.Stdout, format.Options{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := engine.Exec(context.Background(), src, plans[0], engine.FlowsTo(w), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Count, "entries")
	// Output:
	// tcp      6 120 ESTABLISHED src=192.0.2.1 dst=198.51.100.7 sport=40000 dport=22 src=198.51.100.7 dst=192.0.2.1 sport=22 dport=40000 [ASSURED]
	// tcp      6 60 SYN_SENT src=192.0.2.2 dst=198.51.100.7 sport=40001 dport=22 [UNREPLIED] src=198.51.100.7 dst=192.0.2.2 sport=22 dport=40001
	// 2 entries
}

// Count entries: the result is in Result.Count, and
// a count needs no Output.
func ExampleExec_count() {
	plans, err := lang.CompileScript(`count where state == "ESTABLISHED"`, nil)
	if err != nil {
		log.Fatal(err)
	}
	src, err := snapshot.Open("testdata/table.save", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	res, err := engine.Exec(context.Background(), src, plans[0], nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Count)
	// Output: 2
}
