//go:build linux

package ctnetlink

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procDir is where procfs is mounted.
const procDir = "/proc"

// ProgName returns the name of the process (its comm, as in
// /proc/PID/comm) that owns the netfilter netlink socket with port ID
// portid: conntrack -E prints it as " progname=NAME" after
// "[USERSPACE] portid=N". It returns "" for portid 0 (the kernel) and
// when no such process is found, e.g. because it has exited.
//
// The socket is looked up in /proc/net/netlink of the namespace of the
// process whose PID equals portid (the kernel gives a process's first
// netlink socket its PID as port ID), then of the caller's namespace, then,
// best effort, of every namespace that some process is in; a namespace
// that no process is in cannot be searched. A port ID is unique only
// within one namespace, so the first socket found whose owner is found
// wins. Each call reads /proc afresh: callers that look up many events
// should remember the answer for a port ID.
func ProgName(portid uint32) string {
	return progName(procDir, portid)
}

// ProgName is the package's ProgName: the name of the program behind a
// netlink port ID.
func (l *Live) ProgName(portid uint32) string { return ProgName(portid) }

// progName is ProgName with procfs mounted at proc.
func progName(proc string, portid uint32) string {
	if portid == 0 {
		return ""
	}
	pid := filepath.Join(proc, strconv.FormatUint(uint64(portid), 10))
	if ino, ok := netlinkInodeIn(pid, portid); ok && hasSocket(pid, ino) {
		return procComm(pid)
	}
	self := filepath.Join(proc, "self")
	if ino, ok := netlinkInodeIn(self, portid); ok {
		if owner := socketOwner(proc, ino); owner != "" {
			return procComm(owner)
		}
	}
	seen := map[string]bool{}
	if ns, err := os.Readlink(filepath.Join(self, "ns", "net")); err == nil {
		seen[ns] = true
	}
	for _, dir := range procPIDs(proc) {
		ns, err := os.Readlink(filepath.Join(dir, "ns", "net"))
		if err != nil || seen[ns] {
			continue
		}
		seen[ns] = true
		if ino, ok := netlinkInodeIn(dir, portid); ok {
			if owner := socketOwner(proc, ino); owner != "" {
				return procComm(owner)
			}
		}
	}
	return ""
}

// netlinkInodeIn looks portid up in the netlink socket table of the
// network namespace of the process at dir (dir/net/netlink).
func netlinkInodeIn(dir string, portid uint32) (uint64, bool) {
	table, err := os.ReadFile(filepath.Join(dir, "net", "netlink"))
	if err != nil {
		return 0, false
	}
	return netlinkSocketInode(table, portid)
}

// netlinkSocketInode finds the inode of the NETLINK_NETFILTER socket with
// port ID portid in a /proc/net/netlink table, whose columns are
//
//	sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
//
// (Eth is the netlink protocol, Pid the port ID).
func netlinkSocketInode(table []byte, portid uint32) (uint64, bool) {
	proto := strconv.Itoa(netlinkNetfilter)
	for line := range strings.Lines(string(table)) {
		f := strings.Fields(line)
		if len(f) < 10 || f[1] != proto {
			continue
		}
		p, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil || uint32(p) != portid {
			continue
		}
		ino, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil || ino == 0 {
			continue
		}
		return ino, true
	}
	return 0, false
}

// procPIDs lists the process directories under proc.
func procPIDs(proc string) []string {
	entries, err := os.ReadDir(proc)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, e := range entries {
		if _, err := strconv.ParseUint(e.Name(), 10, 32); err == nil {
			dirs = append(dirs, filepath.Join(proc, e.Name()))
		}
	}
	return dirs
}

// socketOwner returns the directory of a process that has the socket
// with inode ino open, "" when none has.
func socketOwner(proc string, ino uint64) string {
	for _, dir := range procPIDs(proc) {
		if hasSocket(dir, ino) {
			return dir
		}
	}
	return ""
}

// hasSocket reports whether the process at dir has the socket with inode
// ino open (a descriptor linking to "socket:[ino]").
func hasSocket(dir string, ino uint64) bool {
	fds := filepath.Join(dir, "fd")
	entries, err := os.ReadDir(fds)
	if err != nil {
		return false
	}
	want := "socket:[" + strconv.FormatUint(ino, 10) + "]"
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(fds, e.Name())); err == nil && target == want {
			return true
		}
	}
	return false
}

// procComm returns the name of the process at dir, "" when it is gone.
func procComm(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}
