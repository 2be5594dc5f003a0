package conntrackd

import (
	"strings"

	"ctq/sync/control"
)

// DefaultConfig is conntrackd's configuration file when -C names none.
const DefaultConfig = "/etc/conntrackd/conntrackd.conf"

// pathMax is Linux's PATH_MAX: conntrackd keeps at most pathMax-1 bytes
// of -C's file name and warns about a longer one.
const pathMax = 4096

// Mode is what a command line asks for.
type Mode int

// The modes of a command line.
const (
	// ModeRun runs the node: in the foreground, or with -d in the
	// background.
	ModeRun Mode = iota
	// ModeRequest sends a request to the running daemon.
	ModeRequest
	// ModeExit only prints (usage, version, an error) and exits.
	ModeExit
)

// Level is a message's priority, as conntrackd's log names it.
type Level int

// The levels of conntrackd's messages.
const (
	LevelNotice Level = iota
	LevelWarning
	LevelError
)

// String is the level's name in conntrackd's log lines.
func (l Level) String() string {
	switch l {
	case LevelWarning:
		return "warning"
	case LevelError:
		return "ERROR"
	}
	return "notice"
}

// Output is one thing printed while the command line is read, in order:
// the usage, the version, or a message.
type Output struct {
	Usage, Version bool
	Level          Level
	Msg            string
}

// Command is a command line as conntrackd reads it.
type Command struct {
	Mode Mode
	// Background is -d.
	Background bool
	// Config is -C's file, empty for DefaultConfig.
	Config string
	// Code is the request of ModeRequest (sync/control's Code...), -1
	// when no option set one.
	Code int32
	// Out is what reading the command line printed, in order.
	Out []Output
	// Exit is the exit code of ModeExit.
	Exit int
}

// opMode is conntrackd's operation mode while the arguments are read.
type opMode int

const (
	notSet opMode = iota
	daemonMode
	requestMode
)

// parser is the state of Parse.
type parser struct {
	cmd  Command
	args []string
	mode opMode
}

// usage prints the usage with a message; exit ends the command line.
func (p *parser) usage(msg string) {
	p.cmd.Out = append(p.cmd.Out, Output{Usage: true}, Output{Level: LevelError, Msg: msg})
}

func (p *parser) exit(code int) *Command {
	p.cmd.Mode, p.cmd.Exit = ModeExit, code
	return &p.cmd
}

// setMode is conntrackd's set_operation_mode: a second, different mode is
// an error.
func (p *parser) setMode(want opMode) bool {
	if p.mode == notSet {
		p.mode = want
		return true
	}
	if p.mode != want {
		p.usage("Invalid parameters")
		return false
	}
	return true
}

// prefixOf reports whether arg is a prefix of word (conntrackd's
// strncmp(arg, word, strlen(arg)) == 0: an empty arg matches any word).
func prefixOf(arg, word string) bool { return strings.HasPrefix(word, arg) }

// takesArg reports whether the argument after i is an option's argument
// (present, not starting with '-').
func (p *parser) takesArg(i int) bool {
	return i+1 < len(p.args) && !strings.HasPrefix(p.args[i+1], "-")
}

// byTable is conntrackd's set_action_by_table: an argument "ct" or
// "expect" (or a prefix of either) picks ct or exp and is consumed;
// another argument is left for the loop, and the code stays what it was;
// no argument picks dfl.
func (p *parser) byTable(i int, ct, exp, dfl int32) int {
	if !p.takesArg(i) {
		p.cmd.Code = dfl
		return i
	}
	switch next := p.args[i+1]; {
	case prefixOf(next, "ct"):
		p.cmd.Code = ct
		return i + 1
	case prefixOf(next, "expect"):
		p.cmd.Code = exp
		return i + 1
	}
	return i
}

// statsPages are the arguments of -s in the order conntrackd tries them.
var statsPages = []struct {
	word string
	code int32
}{
	{"network", control.CodeStatsNetwork},
	{"cache", control.CodeStatsCache},
	{"runtime", control.CodeStatsRuntime},
	{"multicast", control.CodeStatsLink},
	{"link", control.CodeStatsLink},
	{"rsqueue", control.CodeStatsRsqueue},
	{"process", control.CodeStatsProcess},
	{"queue", control.CodeStatsQueue},
	{"ct", control.CodeStats},
	{"expect", control.CodeExpStats},
}

// xmlCodes maps a dump request to its XML form (-x).
var xmlCodes = map[int32]int32{
	control.CodeDumpInternal:    control.CodeDumpIntXML,
	control.CodeDumpExternal:    control.CodeDumpExtXML,
	control.CodeExpDumpInternal: control.CodeExpDumpIntXML,
	control.CodeExpDumpExternal: control.CodeExpDumpExtXML,
}

// requestOpts are the client's options (each puts conntrackd in request
// mode), with the request code of those that take no argument (-1 for
// the others).
var requestOpts = map[byte]int32{
	'c': -1, 'i': -1, 'e': -1, 'F': -1, 'R': -1, 'f': -1, 's': -1,
	'B': control.CodeSendBulk, 't': control.CodeResetTimers,
	'k': control.CodeKill, 'n': control.CodeRequestDump,
}

// tableCodes are the request codes of the client options that take an
// optional table (conntrack, expect, or neither: both) as byTable reads
// it: {conntrack, expect, neither}.
var tableCodes = map[byte][3]int32{
	'c': {control.CodeCommit, control.CodeExpCommit, control.CodeAllCommit},
	'i': {control.CodeDumpInternal, control.CodeExpDumpInternal, control.CodeDumpInternal},
	'e': {control.CodeDumpExternal, control.CodeExpDumpExternal, control.CodeDumpExternal},
	'F': {control.CodeFlushMaster, control.CodeExpFlushMaster, control.CodeAllFlushMaster},
	'R': {control.CodeResyncMaster, control.CodeExpResyncMaster, control.CodeAllResyncMaster},
}

// Parse reads conntrackd's command line args (without the program name)
// as conntrackd 1.4.7's main() does: each argument is taken for the
// option named by its second character, whatever the rest ("-c", "xc"
// and "--commit" are all -c... but "--commit" is "-", unknown); -v and
// -h print and exit 0 at once; an unknown option prints the usage and an
// error and exits 0 (conntrackd's return 0); options of both the daemon
// and the client, or -x without a dump, print the usage and exit 1; an
// unknown argument of -f or -s exits 1.
func Parse(args []string) *Command {
	p := &parser{args: args, cmd: Command{Code: -1}}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		var opt byte
		if len(arg) > 1 {
			opt = arg[1]
		}
		if _, ok := requestOpts[opt]; ok && !p.setMode(requestMode) {
			return p.exit(1)
		}
		if codes, ok := tableCodes[opt]; ok {
			i = p.byTable(i, codes[0], codes[1], codes[2])
			continue
		}
		switch opt {
		case 'd':
			if !p.setMode(daemonMode) {
				return p.exit(1)
			}
			p.cmd.Background = true
		case 'C':
			if i+1 < len(args) {
				i++
				name := args[i]
				if len(name) > pathMax {
					p.cmd.Out = append(p.cmd.Out, Output{Level: LevelWarning,
						Msg: "Path to config file to long. Cutting it down to 4096 characters"})
				}
				if len(name) > pathMax-1 {
					name = name[:pathMax-1]
				}
				p.cmd.Config = name
				break
			}
			p.usage("Missing config filename")
		case 'f':
			if !p.takesArg(i) {
				p.cmd.Code = control.CodeAllFlushCache
				break
			}
			switch next := args[i+1]; {
			case prefixOf(next, "internal"):
				p.cmd.Code = control.CodeFlushIntCache
			case prefixOf(next, "external"):
				p.cmd.Code = control.CodeFlushExtCache
			default:
				p.cmd.Out = append(p.cmd.Out, Output{Level: LevelError, Msg: "unknown parameter `" + next + "' for option `-f'"})
				return p.exit(1)
			}
			i++
		case 'B', 't', 'k', 'n':
			p.cmd.Code = requestOpts[opt]
		case 's':
			if !p.takesArg(i) {
				p.cmd.Code = control.CodeStats
				break
			}
			next, found := args[i+1], false
			for _, pg := range statsPages {
				if prefixOf(next, pg.word) {
					if pg.word == "multicast" {
						p.cmd.Out = append(p.cmd.Out, Output{Level: LevelWarning, Msg: "use `link' instead of `multicast' as parameter."})
					}
					p.cmd.Code, found = pg.code, true
					break
				}
			}
			if !found {
				p.cmd.Out = append(p.cmd.Out, Output{Level: LevelError, Msg: "unknown parameter `" + next + "' for option `-s'"})
				return p.exit(1)
			}
			i++
		case 'x':
			x, ok := xmlCodes[p.cmd.Code]
			if !ok {
				p.usage("Invalid parameters")
				return p.exit(1)
			}
			p.cmd.Code = x
		case 'v':
			p.cmd.Out = append(p.cmd.Out, Output{Version: true})
			return p.exit(0)
		case 'h':
			p.cmd.Out = append(p.cmd.Out, Output{Usage: true})
			return p.exit(0)
		default:
			p.usage("Unknown option: " + arg)
			return p.exit(0)
		}
	}
	if p.mode == requestMode {
		p.cmd.Mode = ModeRequest
	}
	return &p.cmd
}
