package ctargs

// Version is the line conntrack -V prints (without its newline).
const Version = "conntrack v1.4.7 (conntrack-tools)"

// ErrorPrefix is what conntrack prints before each of its error messages
// and summaries on standard error.
const ErrorPrefix = "conntrack v1.4.7 (conntrack-tools): "

// TryHelp is the line conntrack adds after an error of exit status 2.
const TryHelp = "Try `conntrack -h' or 'conntrack --help' for more information."

// usage is conntrack 1.4.7's usage text, byte for byte (its typos kept).
const usage = "Command line interface for the connection tracking system. Version 1.4.7\n" +
	"Usage: conntrack [commands] [options]\n" +
	"\n" +
	"Commands:\n" +
	"  -L [table] [options]\t\tList conntrack or expectation table\n" +
	"  -G [table] parameters\t\tGet conntrack or expectation\n" +
	"  -D [table] parameters\t\tDelete conntrack or expectation\n" +
	"  -I [table] parameters\t\tCreate a conntrack or expectation\n" +
	"  -U [table] parameters\t\tUpdate a conntrack\n" +
	"  -E [table] [options]\t\tShow events\n" +
	"  -F [table]\t\t\tFlush table\n" +
	"  -C [table]\t\t\tShow counter\n" +
	"  -S\t\t\t\tShow statistics\n" +
	"\n" +
	"Tables: conntrack, expect, dying, unconfirmed\n" +
	"\n" +
	"Conntrack parameters and options:\n" +
	"  -n, --src-nat ip\t\t\tsource NAT ip\n" +
	"  -g, --dst-nat ip\t\t\tdestination NAT ip\n" +
	"  -j, --any-nat ip\t\t\tsource or destination NAT ip\n" +
	"  -m, --mark mark\t\t\tSet mark\n" +
	"  -c, --secmark secmark\t\t\tSet selinux secmark\n" +
	"  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY\n" +
	"  -z, --zero \t\t\t\tZero counters while listing\n" +
	"  -o, --output type[,...]\t\tOutput format, eg. xml\n" +
	"  -l, --label label[,...]\t\tconntrack labels\n" +
	"\n" +
	"Expectation parameters and options:\n" +
	"  --tuple-src ip\tSource address in expect tuple\n" +
	"  --tuple-dst ip\tDestination address in expect tuple\n" +
	"\n" +
	"Updating parameters and options:\n" +
	"  --label-add label\tAdd label\n" +
	"  --label-del label\tDelete label\n" +
	"\n" +
	"Common parameters and options:\n" +
	"  -s, --src, --orig-src ip\t\tSource address from original direction\n" +
	"  -d, --dst, --orig-dst ip\t\tDestination address from original direction\n" +
	"  -r, --reply-src ip\t\tSource addres from reply direction\n" +
	"  -q, --reply-dst ip\t\tDestination address from reply direction\n" +
	"  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'\n" +
	"  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'\n" +
	"  -t, --timeout timeout\t\tSet timeout\n" +
	"  -u, --status status\t\tSet status, eg. ASSURED\n" +
	"  -w, --zone value\t\tSet conntrack zone\n" +
	"  --orig-zone value\t\tSet zone for original direction\n" +
	"  --reply-zone value\t\tSet zone for reply direction\n" +
	"  -b, --buffer-size\t\tNetlink socket buffer size\n" +
	"  --mask-src ip\t\t\tSource mask address\n" +
	"  --mask-dst ip\t\t\tDestination mask address\n" +
	"\n"

// Usage is what conntrack -h (and conntrack without a command) prints on
// standard output.
func Usage() string { return usage }

// ProtoHelp is the block conntrack -h -p PROTO prints after the usage
// for a protocol of that name: the options of the built-in protocols
// (tcp, udp, udplite, sctp, dccp, icmp, icmpv6, gre), "no options" for
// any other name. Command.HelpText uses the protocol conntrack resolved.
func ProtoHelp(proto string) string {
	body := unknownProto.help
	for _, h := range protoHandlers {
		if h.name == proto {
			body = h.help
		}
	}
	return "Proto `" + proto + "' help:\n" + body
}

// HelpText is what an OpHelp command prints on standard output: the
// usage, then the help of the -p protocol if one was given.
func (c *Command) HelpText() string {
	if c.HelpProto == "" {
		return usage
	}
	return usage + "Proto `" + c.HelpProto + "' help:\n" + c.helpBody
}
