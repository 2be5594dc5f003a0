package format

import (
	"net/netip"
	"time"

	"ctq/engine"
)

// fb builds a test flow step by step.
type fb struct{ f engine.Flow }

// flow starts a flow with its original tuple; ports are ignored for
// protocols without ports.
func flow(family string, proto int, src, dst string, sport, dport int) *fb {
	b := &fb{}
	b.f.Family = family
	b.f.SetProto(proto)
	b.f.Src = netip.MustParseAddr(src)
	b.f.Dst = netip.MustParseAddr(dst)
	b.f.Sport, b.f.Dport = sport, dport
	return b
}

func (b *fb) reply(src, dst string, sport, dport int) *fb {
	b.f.ReplySrc = netip.MustParseAddr(src)
	b.f.ReplyDst = netip.MustParseAddr(dst)
	b.f.ReplySport, b.f.ReplyDport = sport, dport
	b.f.Has |= engine.HasReply
	return b
}

func (b *fb) icmp(typ, code, id, rtyp, rcode, rid int) *fb {
	b.f.ICMPType, b.f.ICMPCode, b.f.ICMPID = typ, code, id
	b.f.ReplyICMPType, b.f.ReplyICMPCode, b.f.ReplyICMPID = rtyp, rcode, rid
	return b
}

func (b *fb) timeout(t int) *fb { b.f.Timeout = t; b.f.Has |= engine.HasTimeout; return b }
func (b *fb) state(s int) *fb   { b.f.SetState(s); return b }
func (b *fb) status(s engine.Status) *fb {
	b.f.SetStatus(s | engine.StatusConfirmed)
	return b
}
func (b *fb) counters(op, ob, rp, rb int) *fb { b.f.SetCounters(op, ob, rp, rb); return b }
func (b *fb) mark(m int) *fb                  { b.f.Mark = m; b.f.Has |= engine.HasMark; return b }
func (b *fb) secmark(m int) *fb               { b.f.Secmark = m; b.f.Has |= engine.HasSecmark; return b }
func (b *fb) zone(z int) *fb                  { b.f.Zone = z; b.f.Has |= engine.HasZone; return b }
func (b *fb) origZone(z int) *fb              { b.f.OrigZone = z; b.f.Has |= engine.HasOrigZone; return b }
func (b *fb) replyZone(z int) *fb             { b.f.ReplyZone = z; b.f.Has |= engine.HasReplyZone; return b }
func (b *fb) use(u int) *fb                   { b.f.Use = u; b.f.Has |= engine.HasUse; return b }
func (b *fb) id(i int) *fb                    { b.f.ID = i; b.f.Has |= engine.HasID; return b }
func (b *fb) helper(h string) *fb             { b.f.Helper = h; b.f.Has |= engine.HasHelper; return b }
func (b *fb) secctx(s string) *fb             { b.f.Secctx = s; b.f.Has |= engine.HasSecctx; return b }
func (b *fb) vtags(o, r int) *fb {
	b.f.OrigVtag, b.f.ReplyVtag = o, r
	b.f.Has |= engine.HasVtags
	return b
}
func (b *fb) role(r int) *fb { b.f.DCCPRole = r; b.f.Has |= engine.HasRole; return b }

func (b *fb) labels(bits ...int) *fb {
	for _, n := range bits {
		b.f.Labels.Set(n)
	}
	b.f.Has |= engine.HasLabels
	return b
}

// started sets the start timestamp at unix second sec plus ns, with the
// age relative to now0.
func (b *fb) started(sec, ns int64) *fb {
	b.f.SetStart(time.Unix(sec, ns), now0)
	return b
}

func (b *fb) stopped(sec, ns int64) *fb {
	b.f.Stop = time.Unix(sec, ns)
	b.f.Has |= engine.HasStop
	return b
}

func (b *fb) build() engine.Flow { return b.f }

// now0 is 2026-11-22 23:26:01 UTC, the clock of formats_v4real.txt.
var now0 = time.Unix(1795389961, 0)

// labelMap names label bits like the captures' connlabel.conf did (the bit
// order web < db < blocked < vip is what the captures show).
var labelMap = map[int]string{0: "web", 1: "db", 2: "blocked", 3: "vip"}
