#!/bin/bash
# keepalived notify script for a ctq sync pair (FTFW): the node that becomes
# MASTER writes the flows its peer replicated into its kernel table; the node
# that becomes BACKUP drops its stale caches and asks the new master for its
# whole table.
#
# keepalived.conf, in the vrrp_instance (or vrrp_sync_group):
#
#	notify /usr/local/sbin/keepalived-notify.sh
#
# keepalived then calls it with: TYPE NAME STATE PRIORITY (STATE is MASTER,
# BACKUP, FAULT or STOP). A single argument naming the state works too, for
# notify_master "/usr/local/sbin/keepalived-notify.sh MASTER" and the like.
#
# The sync node itself runs as a service (examples/ctq-sync.service).
#
# Environment: CTQ (the ctq binary, default ctq), CTQ_SYNC_CONF (the sync
# configuration, default /etc/ctq/sync.conf), CTQ_SYNC_LOG (- logs to
# standard error instead of syslog).
set -u

ctq=${CTQ:-ctq}
conf=${CTQ_SYNC_CONF:-/etc/ctq/sync.conf}
if [ $# -ge 3 ]; then
	state=$3
else
	state=${1:-}
fi

log() {
	if [ "${CTQ_SYNC_LOG:-}" = - ] || ! logger -t ctq-sync-notify -- "$*" 2>/dev/null; then
		echo "ctq-sync-notify: $*" >&2
	fi
}

# sync ACTION: a request to the running node; failures are logged.
sync_req() {
	if ! out=$("$ctq" -e "sync $1 \"$conf\"" 2>&1); then
		log "sync $1 failed: $out"
		return 1
	fi
	[ -z "$out" ] || log "sync $1: $out"
}

case $state in
MASTER)
	# The external cache (the peer's flows) goes into the kernel table, so
	# that connections the peer carried survive the switchover.
	sync_req commit || exit 1
	;;
BACKUP)
	# Is the node up? Without it there is nothing to replicate into.
	if ! "$ctq" -e "sync status \"$conf\"" >/dev/null 2>&1; then
		log "sync node for $conf not answering; starting ctq-sync.service"
		systemctl start ctq-sync.service || { log "cannot start ctq-sync.service"; exit 1; }
	fi
	# The caches are stale after a period as master: empty them and have
	# the new master send its whole table.
	sync_req flush
	sync_req resync
	;;
FAULT | STOP)
	log "state $state: nothing to do"
	;;
*)
	log "unknown state '$state' (args: $*)"
	exit 2
	;;
esac
exit 0
