#!/bin/bash
# keepalived notify script for a ctq sync pair (FTFW): the node that becomes
# MASTER writes the flows its peer replicated into its kernel table and sends
# its table to the peer; the node that becomes BACKUP schedules the purge of
# its own flows and asks the new master for its whole table.
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
	# As conntrackd's primary-backup.sh (-c, -f, -R, -B): the external cache
	# (the peer's flows) goes into the kernel table, so that connections the
	# peer carried survive the switchover (a pending purge is cancelled);
	# then the caches start over from this kernel table, which the peer is
	# sent whole. A commit that failed (entries the kernel refused, a node
	# not answering: ctq exits 1) must not be followed by the flush, which
	# would drop the flows it could not write: the external cache is kept,
	# for a later sync commit, and the script exits 1.
	if ! sync_req commit; then
		log "sync commit failed: external cache kept (not flushed); retry with: $ctq -e 'sync commit \"$conf\"'"
		sync_req refresh
		sync_req bulk
		exit 1
	fi
	sync_req flush
	sync_req refresh
	sync_req bulk
	;;
BACKUP)
	# Is the node up? Without it there is nothing to replicate into.
	if ! "$ctq" -e "sync status \"$conf\"" >/dev/null 2>&1; then
		log "sync node for $conf not answering; starting ctq-sync.service"
		systemctl start ctq-sync.service || { log "cannot start ctq-sync.service"; exit 1; }
	fi
	# As primary-backup.sh (-t, -n): the flows of the time as master leave
	# the kernel table after PurgeTimeout, and the new master is asked for
	# its whole table.
	sync_req purge
	sync_req resync
	;;
FAULT)
	sync_req purge
	;;
STOP)
	log "state $state: nothing to do"
	;;
*)
	log "unknown state '$state' (args: $*)"
	exit 2
	;;
esac
exit 0
