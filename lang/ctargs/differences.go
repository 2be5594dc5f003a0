package ctargs

// Difference is one command line on which ctq deliberately does not do
// what conntrack 1.4.7 does: 1.4.7 does something its options do not
// say (often destructive) or crashes, and ctq does what the options say.
type Difference struct {
	// Command is an example command line (without "conntrack").
	Command string
	// Conntrack is what conntrack 1.4.7 does.
	Conntrack string
	// Ctq is what ctq does instead.
	Ctq string
}

// Differences lists every behaviour of conntrack 1.4.7 that the ctq
// front end does not reproduce, for --help and the documentation.
// Everything else (messages, exit codes, keyword and option quirks) is
// reproduced.
var Differences = []Difference{
	{
		Command:   "-F -f ipv6",
		Conntrack: "flushes the whole table, IPv4 entries too (the family is sent in a request the kernel reads without it)",
		Ctq:       "flushes the entries of that family only",
	},
	{
		Command:   "-D -u UNREPLIED",
		Conntrack: "deletes every entry the other options select, replied or not (UNREPLIED and !FLAG are not checked by -D); the same for -D -u '!ASSURED'",
		Ctq:       "deletes only the entries without SEEN_REPLY (without ASSURED)",
	},
	{
		Command:   "-L -u FIXED_TIMEOUT,!ASSURED",
		Conntrack: "shows nothing when set and negated flags are mixed (it asks the kernel for status & ASSURED == FIXED_TIMEOUT); -D applies the set flags only",
		Ctq:       "selects the entries with FIXED_TIMEOUT set and ASSURED clear",
	},
	{
		Command:   "-L -m 0x20/0x20 -u ASSURED",
		Conntrack: "a -u after -m replaces the mark value by the status bits: -L, -D and -E select nothing (or entries with the wrong mark), -U sets the mark to (old & ~MASK) ^ STATUS, -I and -A create the entry with mark STATUS",
		Ctq:       "uses the mark given with -m, whatever the order of -m and -u",
	},
	{
		Command:   "-L -c 5",
		Conntrack: "ignores the secmark filter (-L and -E show every entry)",
		Ctq:       "shows only the entries with secmark 5",
	},
	{
		Command:   "-D -p gre --srckey 10046 --dstkey 7",
		Conntrack: "ignores the GRE key filters (--srckey, --dstkey, --orig-key-src, --orig-key-dst, --reply-key-src, --reply-key-dst): -L, -D, -U and -E select every GRE entry the other options select",
		Ctq:       "selects only the entries with those keys",
	},
	{
		Command:   "-D -g 2001:db8::99",
		Conntrack: "ignores an IPv6 address given to -n, -g or -j (only an IPv4 address is compared): every IPv6 NAT entry matches",
		Ctq:       "compares the IPv6 address",
	},
	{
		Command:   "-L -j 192.0.2.2 -p tcp",
		Conntrack: "matches nothing when -j ADDR is combined with a comparison filter (-p, -s, -d, -r, -q, -m, -u, -c, -i, -w, -l, --orig-zone, --reply-zone): -j also overwrites the original source address of its template",
		Ctq:       "selects the entries NATed to or from 192.0.2.2 that match the other filters",
	},
	{
		Command:   "-U -m 5",
		Conntrack: "fails with 'Operation failed: Operation not supported' for every entry when neither -f nor an address gives the family; when it updates several entries it prints only some of them",
		Ctq:       "updates each entry in its own family and prints every updated entry",
	},
	{
		Command:   "-U -f ipv4 -w 0 -s 192.0.2.3 -m 5",
		Conntrack: "cannot update an entry in a zone other than 0 (or with a directional zone): it looks the entry up without its zone, prints 'Operation failed: No such file or directory' and does not count it",
		Ctq:       "updates the entry in its zone",
	},
	{
		Command:   "-U -f ipv4 -n 198.51.100.77 -m 5",
		Conntrack: "sends the NAT address of -n ADDR or -g ADDR along with the update, which the kernel refuses: it prints 'Operation failed: Operation not supported' and the entry unchanged, and counts it as updated",
		Ctq:       "applies the update to the entries the NAT filter selects",
	},
	{
		Command:   "-I -s 198.18.1.5 -d 198.18.1.6 -r 198.18.1.6 -q 198.18.1.50 -p udp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 -t 100",
		Conntrack: "creates the entry with the reply tuple as given and no NAT: the reply tuple does not match the traffic it describes, nothing is translated",
		Ctq:       "creates an entry whose reply tuple is translated with NAT (here source NAT to 198.18.1.50, as --src-nat 198.18.1.50 would): the engine sets up NAT for a reply tuple that is not the inverse of the original",
	},
	{
		Command:   "-L dying -s 192.0.2.0/24",
		Conntrack: "-L dying and -L unconfirmed never match a CIDR or --mask-src/--mask-dst filter (their network filter is not set up)",
		Ctq:       "applies these filters as for the conntrack table",
	},
	{
		Command:   "-D --id 5",
		Conntrack: "crashes (segmentation fault, exit status 139) when --id has no attached value",
		Ctq:       "reports \"option `--id' requires an argument\" (exit status 2); -i 5 and --id=5 work in both",
	},
	{
		Command:   "-L -p sctp --state HEARTBEAT_SENT",
		Conntrack: "crashes (segmentation fault) for an SCTP state it does not know, HEARTBEAT_SENT and HEARTBEAT_ACKED included",
		Ctq:       "reports \"unknown SCTP state `HEARTBEAT_SENT'\" (exit status 2)",
	},
	{
		Command:   "-I expect ... -p tcp --tuple-port-dst 50010",
		Conntrack: "creates the expectation with a protocol made of the port's low byte (proto=195): --tuple-port-src/dst of tcp, sctp and dccp overwrite the expected protocol",
		Ctq:       "creates the expectation for the -p protocol",
	},
	{
		Command:   "-I -p sctp ... --dst-nat 198.51.100.77:8013",
		Conntrack: "ignores the port of -n/-g ADDR:PORT for protocols other than TCP and UDP (SCTP, UDP-Lite, DCCP): the entry is created without the port translation",
		Ctq:       "creates the entry with the port translated, as the option says",
	},
	{
		Command:   "-L -u UNREPLIED,SEEN_REPLY",
		Conntrack: "ignores UNREPLIED when set flags come with it, and lists the entries with the other flags",
		Ctq:       "selects the entries that satisfy every flag given (here none: UNREPLIED is the absence of SEEN_REPLY)",
	},
	{
		Command:   "-R FILE with -U/-D lines",
		Conntrack: "uses the file's last line for parts of every -U and -D line: -U sets the mark (-m) and changes the labels (--label-add, --label-del) the last line gives (-U -s X -m 11 followed by -I ... -m 12 sets mark 12 on X), and -U and -D filter by the -l labels of the last line",
		Ctq:       "gives each line its own -m, -l, --label-add and --label-del (the -o of all lines is merged, as in 1.4.7)",
	},
}
