//go:build linux

package ctnetlink

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// Kernel versions that introduced each dump filter, as major*1000+minor.
const (
	minFamily = 4_020 // 4.20
	minMark   = 4_000 // 4.0
	minStatus = 5_015 // 5.15
	minZone   = 6_008 // 6.8
	minTuple  = 5_008 // 5.8
)

// parseRelease extracts major and minor from a kernel release such as
// "6.18.44-fc-v669".
func parseRelease(release string) (major, minor int, ok bool) {
	fields := strings.SplitN(release, ".", 3)
	if len(fields) < 2 {
		return 0, 0, false
	}
	major, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, 0, false
	}
	m := fields[1]
	if i := strings.IndexFunc(m, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		m = m[:i]
	}
	minor, err = strconv.Atoi(m)
	if err != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// supportFromRelease is the support a kernel release has by version alone.
// An unparsable release supports nothing.
func supportFromRelease(release string) engine.FilterSupport {
	s := engine.FilterSupport{Kernel: release}
	major, minor, ok := parseRelease(release)
	if !ok {
		return s
	}
	atLeast := func(v int) bool { return major*1000+minor >= v }
	s.Family = atLeast(minFamily)
	s.Mark = atLeast(minMark)
	s.Status = atLeast(minStatus)
	s.Zone = atLeast(minZone)
	s.Tuple = atLeast(minTuple)
	return s
}

// kernelRelease is uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// detectSupport decides what the kernel supports. The family, mark and
// zone filters are decided by kernel version: the kernel accepts CTA_ZONE
// silently with or without zone filtering, so only the version tells. The
// status and tuple filters are probed, which also covers vendor kernels
// with backports: each probe is a dump request that a kernel knowing the
// filter rejects as malformed (EINVAL) before dumping anything, and that
// an older kernel, which ignores the unknown attribute, answers with an
// empty dump (the probe's mark filter matches no entry). When a probe is
// inconclusive (another error, such as EPERM), the version decides.
func (l *Live) detectSupport() engine.FilterSupport {
	s := supportFromRelease(kernelRelease())
	if v, ok := l.probe(probeStatus()); ok {
		s.Status = v
	}
	if v, ok := l.probe(probeTuple()); ok {
		s.Tuple = v
	}
	return s
}

// probeBase starts a probe request: family AF_INET and a mark filter that
// matches nothing (mark & 0 == 1), so that a kernel ignoring the probed
// attribute sends an empty dump.
func probeBase() *attrEncoder {
	e := newRequest(engine.FamilyIPv4)
	e.u32(ctaMark, 1)
	e.u32(ctaMarkMask, 0)
	return e
}

// probeStatus is a dump request with CTA_STATUS_MASK but no CTA_STATUS,
// which kernels with status filtering reject.
func probeStatus() []byte {
	e := probeBase()
	e.u32(ctaStatusMask, uint32(engine.StatusAssured))
	return e.b
}

// probeTuple is a dump request whose CTA_FILTER asks for a source port
// without the protocol number, which kernels with CTA_FILTER reject.
func probeTuple() []byte {
	e := probeBase()
	t := e.begin(ctaTupleOrig)
	p := e.begin(ctaTupleProto)
	e.u16(ctaProtoSrcPort, 1)
	e.end(p)
	e.end(t)
	f := e.begin(ctaFilter)
	e.hostU32(ctaFilterOrigFlags, uint32(engine.TupleSport))
	e.end(f)
	return e.b
}

// probeTimeout bounds one probe exchange.
const probeTimeout = 5 * time.Second

// probe sends one probe dump. supported is true when the kernel rejected
// it as invalid, false when it answered with a dump; ok is false when the
// outcome says nothing.
func (l *Live) probe(req []byte) (supported, ok bool) {
	c, err := l.dial()
	if err != nil {
		return false, false
	}
	defer l.release(c)
	// A probe is a short exchange; never let it hang a scan.
	if err := c.SetDeadline(time.Now().Add(probeTimeout)); err != nil {
		return false, false
	}
	if _, err := c.Send(ctMessage(ipctnlMsgCtGet, netlink.Dump, req)); err != nil {
		return false, false
	}
	for _, err := range c.ReceiveIter() {
		if err != nil {
			return filterRejected(err), filterRejected(err)
		}
	}
	return false, true
}

// filterRejected reports whether err is the kernel refusing a dump
// request's filter (EINVAL, EOPNOTSUPP).
func filterRejected(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP)
}
