package nstest

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// FTPAddr is the address FTPExpectation puts on lo; both ends of its
// control sessions use it.
const FTPAddr = "192.0.2.1"

// FTPFirstDataPort is the data port of a namespace's first FTP session;
// each further session uses the next port.
const FTPFirstDataPort = 50000

// ftpRules assign conntrack's ftp helper to TCP connections to port 21
// that the namespace opens.
const ftpRules = `table inet nstest_ftp {
	ct helper ftp-standard { type "ftp" protocol tcp; }
	chain out {
		type filter hook output priority 10; policy accept;
		tcp dport 21 ct helper set "ftp-standard"
	}
}
`

// ftpTimeout bounds each read and write of a control session.
const ftpTimeout = 10 * time.Second

// FTP is one FTP control connection after which the kernel's ftp helper
// expects a data connection.
type FTP struct {
	// Client is the control connection's client end, the source of the
	// expectation's master (whose destination is FTPAddr port 21).
	Client netip.AddrPort
	// DataPort is the destination port of the expected data connection:
	// to FTPAddr from the client (passive) or to the client from the
	// server (active); its source port is any.
	DataPort int
}

// FTPExpectation makes the namespace's ftp helper create one
// expectation. The first call adds FTPAddr to lo and an nft table that
// gives TCP connections to port 21 the ftp helper, and opens the server's
// listener, which every session shares (binding port 21 again, next to
// the sessions that stay open, was seen to fail with EADDRINUSE once in
// many runs) and which closes with the namespace. Each call runs one
// control session from FTPAddr to FTPAddr:21: with passive, the client
// sends PASV and the server answers 227 with the data port; else the
// client offers the data port with PORT (the helper keeps one expectation
// per control connection, so each session makes exactly one). Data ports
// count up from FTPFirstDataPort. Both sockets stay open, keeping the
// master ESTABLISHED, until the test ends. It fails the test on any error.
func (n *NS) FTPExpectation(t testing.TB, passive bool) FTP {
	t.Helper()
	var client, served net.Conn
	dataPort, err := n.ftpConnect(t, &client, &served)
	if err != nil {
		t.Fatalf("nstest: FTP session in %s: %v", n.name, err)
	}
	t.Cleanup(func() {
		client.Close()
		served.Close()
	})
	deadline := time.Now().Add(ftpTimeout)
	if err := client.SetDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	if err := served.SetDeadline(deadline); err != nil {
		t.Fatal(err)
	}
	cr, sr := bufio.NewReader(client), bufio.NewReader(served)
	say := func(c net.Conn, r *bufio.Reader, line string) {
		t.Helper()
		if _, err := c.Write([]byte(line + "\r\n")); err != nil {
			t.Fatalf("nstest: FTP session in %s: send %q: %v", n.name, line, err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != line+"\r\n" {
			t.Fatalf("nstest: FTP session in %s: read %q, %v; sent %q", n.name, got, err, line)
		}
	}
	// The helper parses a line only after it has seen one end in that
	// direction, hence a greeting and a USER exchange first.
	hostPort := fmt.Sprintf("%s,%d,%d", strings.ReplaceAll(FTPAddr, ".", ","), dataPort>>8, dataPort&0xff)
	say(served, cr, "220 nstest FTP server")
	say(client, sr, "USER nstest")
	say(served, cr, "331 Password required.")
	if passive {
		say(client, sr, "PASV")
		say(served, cr, "227 Entering Passive Mode ("+hostPort+").")
	} else {
		say(client, sr, "PORT "+hostPort)
		say(served, cr, "200 PORT command successful.")
	}
	ap := client.LocalAddr().(*net.TCPAddr).AddrPort()
	return FTP{Client: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), DataPort: dataPort}
}

// ftpConnect prepares the namespace for FTP sessions on first use, opens
// the next session's control connection (client and served ends) and
// returns its data port. Sessions open one at a time, so that each
// accepts its own connection.
func (n *NS) ftpConnect(t testing.TB, client, served *net.Conn) (dataPort int, err error) {
	t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	server := net.JoinHostPort(FTPAddr, "21")
	if n.ftpLn == nil {
		n.Run(t, "ip", "addr", "add", FTPAddr+"/32", "dev", "lo")
		n.run(t, []byte(ftpRules), "nft", "-f", "-")
		if err := n.Do(func() error {
			ln, err := net.Listen("tcp", server)
			n.ftpLn = ln
			return err
		}); err != nil {
			return 0, fmt.Errorf("listen: %w", err)
		}
	}
	n.ftpSessions++
	err = n.Do(func() error {
		var err error
		if *client, err = net.DialTimeout("tcp", server, ftpTimeout); err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		if *served, err = n.ftpLn.Accept(); err != nil {
			(*client).Close()
			return fmt.Errorf("accept: %w", err)
		}
		return nil
	})
	return FTPFirstDataPort + n.ftpSessions - 1, err
}
