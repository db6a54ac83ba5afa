#!/usr/bin/env bash
# Stop the SLURM daemons that slurm-up.sh started, and only those.
#
# Each daemon is found through its PID file in $NNSTUDY_SLURM_STATE (default
# /run/nnstudy-slurm) and signalled only when /proc/PID/comm still names that
# daemon, so a reused PID or a daemon started by someone else is never touched.
# Daemons are stopped in the reverse order of start-up: first SIGTERM, then
# SIGKILL if one has not exited after $NNSTUDY_SLURM_STOP_TIMEOUT seconds
# (default 30).  Exits non-zero if a recorded daemon could not be stopped.
set -uo pipefail

STATE_DIR=${NNSTUDY_SLURM_STATE:-/run/nnstudy-slurm}
STOP_TIMEOUT=${NNSTUDY_SLURM_STOP_TIMEOUT:-30}
# Reverse of the start order in slurm-up.sh.
DAEMONS=(slurmd slurmctld slurmdbd munged mariadbd)

log() { printf '[slurm-down] %s\n' "$*"; }

[[ $(id -u) -eq 0 ]] || {
    echo "slurm-down: ERROR: must run as root" >&2
    exit 1
}
if [[ ! -d $STATE_DIR ]]; then
    log "no state folder $STATE_DIR: nothing to stop"
    exit 0
fi

# alive PID NAME: PID exists and is still the daemon NAME.
alive() { [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]]; }

# wait_gone PID NAME SECONDS: 0 once PID is no longer NAME.
wait_gone() {
    local pid=$1 name=$2 deadline=$(($(date +%s) + $3))
    while alive "$pid" "$name"; do
        (($(date +%s) >= deadline)) && return 1
        sleep 0.2
    done
    return 0
}

status=0
stopped=0
for name in "${DAEMONS[@]}"; do
    pidfile=$STATE_DIR/$name.pid
    [[ -f $pidfile ]] || continue
    pid=$(<"$pidfile")
    if ! [[ $pid =~ ^[0-9]+$ ]] || ! alive "$pid" "$name"; then
        log "$name (pid ${pid:-?}) is no longer running (PID gone or reused); removing its stale PID file"
        rm -f "$pidfile"
        continue
    fi
    log "stopping $name (pid $pid)"
    t0=$SECONDS
    kill -TERM "$pid" 2>/dev/null
    if ! wait_gone "$pid" "$name" "$STOP_TIMEOUT"; then
        log "$name (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
        alive "$pid" "$name" && kill -KILL "$pid" 2>/dev/null
        if ! wait_gone "$pid" "$name" 10; then
            log "ERROR: could not stop $name (pid $pid)"
            status=1
            continue
        fi
    fi
    log "$name stopped after $((SECONDS - t0)) s"
    stopped=$((stopped + 1))
    rm -f "$pidfile"
done

if ((status == 0 && stopped == 0)); then
    log "no daemon started by slurm-up.sh was running"
elif ((status == 0)); then
    log "stopped $stopped daemon(s) started by slurm-up.sh"
fi
exit "$status"
