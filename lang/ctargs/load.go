package ctargs

import (
	"io"
	"strings"
)

// Limits of conntrack's load-file reader.
const (
	loadLineMax  = 10240 - 1 // fgets into a 10240-byte buffer
	loadParamMax = 1024      // struct ct_param_buf
	loadArgMax   = 255       // MAX_ARGC, the program name included
)

// LoadOpenError is the error conntrack reports when it cannot open the
// -R file name ("-" is standard input, which it opens as /dev/stdin).
func LoadOpenError(name string) *Error {
	if name == "-" {
		name = "/dev/stdin"
	}
	return paramErr("Failed to open file %s for reading", name)
}

// loadCommands names the commands a load file may not hold, as
// conntrack's message names them (ct_unsupp_cmd_parse_file, typo of
// "-C expect" for -I expect included).
var loadCommandNames = map[int]string{
	cmdList: "-L", cmdGet: "-G", cmdEvent: "-E", cmdVersion: "-V", cmdHelp: "-h",
	cmdExpList: "-L expect", cmdExpCreate: "-C expect", cmdExpDelete: "-D expect",
	cmdExpGet: "-G expect", cmdExpFlush: "-F expect", cmdExpEvent: "-E expect",
	cmdCount: "-C", cmdExpCount: "-C expect", cmdStats: "-S", cmdExpStats: "-S expect",
}

// ParseLoad parses a conntrack -R load file as conntrack 1.4.7 does:
// every line first (a line is what fgets reads into its 10240-byte
// buffer: longer lines are cut into several), then the check that each
// holds one of -I -A -U -D -F on the conntrack table. Any error stops
// it, and then nothing may be executed; the *Error carries the warning
// lines printed before it (of all lines). Blank lines and lines starting
// with '#' (after spaces and tabs) are skipped.
//
// The Commands are in file order. conntrack prints every line's
// Warnings while parsing, before it executes the first line: the runner
// prints them all first. A Command with ExecError set fails when its
// turn comes. -D and -U lines are filters like on the command line (-D
// -s X deletes every entry from X); nothing is printed for a line but
// what its command prints (no summaries).
func ParseLoad(r io.Reader, env *Env) ([]*Command, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, otherErr("%v", err)
	}
	var cmds []*Command
	var warnings []string
	var output uint32
	var labels map[int]string
	text := string(data)
	for text != "" {
		n := strings.IndexByte(text, '\n') + 1
		if n == 0 {
			n = len(text)
		}
		if n > loadLineMax {
			n = loadLineMax
		}
		chunk := text[:n]
		text = text[n:]
		c, err := parseLoadLine(chunk, env, output)
		if err != nil {
			err.Warnings = append(warnings, err.Warnings...)
			return nil, err
		}
		if c == nil {
			continue
		}
		warnings = append(warnings, c.Warnings...)
		output = c.outMask
		if c.Output.LabelNames != nil {
			labels = c.Output.LabelNames
		}
		cmds = append(cmds, c)
	}
	for _, c := range cmds {
		switch c.Op {
		case OpCreate, OpAdd, OpUpdate, OpDelete, OpFlush:
			if c.cmdIndex < cmdExpList || c.cmdIndex == cmdAdd {
				continue
			}
		}
		name, ok := loadCommandNames[c.cmdIndex]
		if !ok {
			name = "unknown"
		}
		return nil, &Error{Msg: "Cannot use command `" + name + "' with --load-file", Code: 2, Warnings: warnings}
	}
	// conntrack's -o mask and label map are global: what the lines
	// gave together is how every line prints.
	for _, c := range cmds {
		c.Output = outputSpec(output, nil)
		c.Output.LabelNames = labels
	}
	return cmds, nil
}

// ParseLine parses one line of a load file (with or without its
// newline) as conntrack -R does: leading spaces and tabs skipped, a line
// then empty or starting with '#' ignored (nil, nil), the rest split
// into words (see SplitLoadLine) and parsed like a command line. Checks
// conntrack makes only when it executes the line are returned in
// Command.ExecError.
func ParseLine(line string, env *Env) (*Command, error) {
	c, err := parseLoadLine(line, env, 0)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseLoadLine is ParseLine with the -o mask of the lines before.
func parseLoadLine(line string, env *Env, output uint32) (*Command, *Error) {
	line = strings.TrimLeft(line, " \t")
	if strings.HasPrefix(line, "\n") || strings.HasPrefix(line, "#") {
		return nil, nil
	}
	args, err := splitLoadLine(line)
	if err != nil {
		return nil, err
	}
	return parseLine(args, env, true, output)
}

// SplitLoadLine splits a load-file line into words as conntrack's
// add_param_to_argv does: spaces, tabs and newlines separate words; a
// double quote opens a quoted part in which they do not, and in which a
// backslash takes the next character as it is; a closing quote ends the
// word (so `"a"b` is two words and `""` an empty one). At most 253 words
// of at most 1023 bytes.
func SplitLoadLine(line string) ([]string, error) {
	args, err := splitLoadLine(line)
	if err != nil {
		return nil, err
	}
	return args, nil
}

// splitLoadLine is SplitLoadLine with a typed error.
func splitLoadLine(line string) ([]string, *Error) {
	var args []string
	var param []byte
	quoteOpen, escaped := false, false
	add := func(w string) *Error {
		if len(args)+2 >= loadArgMax {
			return paramErr("too many arguments")
		}
		args = append(args, w)
		return nil
	}
	addByte := func(c byte) *Error {
		param = append(param, c)
		if len(param) >= loadParamMax {
			return paramErr("Parameter too long!")
		}
		return nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == 0 {
			break // the C string ends here
		}
		if quoteOpen {
			switch {
			case escaped:
				if err := addByte(c); err != nil {
					return nil, err
				}
				escaped = false
				continue
			case c == '\\':
				escaped = true
				continue
			case c == '"':
				quoteOpen = false
			default:
				if err := addByte(c); err != nil {
					return nil, err
				}
				continue
			}
		} else if c == '"' {
			quoteOpen = true
			continue
		}
		switch c {
		case '"':
		case ' ', '\t', '\n':
			if len(param) == 0 {
				continue
			}
		default:
			if err := addByte(c); err != nil {
				return nil, err
			}
			continue
		}
		if err := add(string(param)); err != nil {
			return nil, err
		}
		param = param[:0]
	}
	if len(param) > 0 {
		if err := add(string(param)); err != nil {
			return nil, err
		}
	}
	return args, nil
}
