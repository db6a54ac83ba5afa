#!/usr/bin/env bash
# Bring up a real single-node SLURM cluster (with accounting) on this machine.
#
# Meant for Debian 12 run as root on a machine without systemd (containers,
# CI runners).  Idempotent: packages are installed only when missing, daemons
# that are already running are left alone, configuration files are rewritten
# only when their content changes.
#
# Every daemon is started in its foreground mode, detached with setsid, and its
# PID is recorded in $NNSTUDY_SLURM_STATE (default /run/nnstudy-slurm) so that
# slurm-down.sh can stop exactly what this script started.
#
# Environment knobs:
#   NNSTUDY_SLURM_STATE      state folder for PID files and daemon output
#   NNSTUDY_SLURM_PARTITION  partition name (default: nnstudy; the Snakemake
#                            profile workflow/profiles/slurm expects this name)
#   NNSTUDY_SLURM_TIMEOUT    seconds to wait for each readiness check (default 60)
set -euo pipefail

STATE_DIR=${NNSTUDY_SLURM_STATE:-/run/nnstudy-slurm}
PARTITION=${NNSTUDY_SLURM_PARTITION:-nnstudy}
TIMEOUT=${NNSTUDY_SLURM_TIMEOUT:-60}
CLUSTER_NAME=nnstudy
DB_NAME=slurm_acct_db
PACKAGES=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server)

SLURM_CONF=/etc/slurm/slurm.conf
SLURMDBD_CONF=/etc/slurm/slurmdbd.conf
MUNGE_KEY=/etc/munge/munge.key
LOG_DIR=/var/log/slurm
RUN_DIR=/run/slurm

T0=${EPOCHREALTIME/./}
log() {
    local dt=$((${EPOCHREALTIME/./} - T0))
    printf '[slurm-up %3d.%01ds] %s\n' $((dt / 1000000)) $((dt / 100000 % 10)) "$*"
}
die() {
    printf 'slurm-up: ERROR: %s\n' "$*" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"
[[ -r /etc/debian_version ]] || die "expects a Debian system (apt-get, Debian's SLURM packages)"
mkdir -p "$STATE_DIR"

# --------------------------------------------------------------------------
# 1. Packages
# --------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get install -y -q --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}"
    }
    # Try with the package lists already on the machine first; refresh them
    # only when that fails (stale or missing lists).
    if ! apt_install >"$STATE_DIR/apt.log" 2>&1; then
        log "apt-get install failed with the current package lists; running apt-get update"
        apt-get update -q >>"$STATE_DIR/apt.log" 2>&1 || die "apt-get update failed, see $STATE_DIR/apt.log"
        apt_install >>"$STATE_DIR/apt.log" 2>&1 || die "apt-get install failed, see $STATE_DIR/apt.log"
    fi
    log "packages installed"
fi
for b in munged slurmctld slurmd slurmdbd mariadbd sinfo srun sacct; do
    command -v "$b" >/dev/null || die "$b not found after installing ${PACKAGES[*]}"
done

# --------------------------------------------------------------------------
# 2. Folders, munge key, configuration
# --------------------------------------------------------------------------
mkdir -p "$STATE_DIR" "$LOG_DIR" "$RUN_DIR" /var/lib/slurm/slurmctld /var/lib/slurm/slurmd \
    /run/munge /run/mysqld /etc/slurm
chown slurm:slurm "$LOG_DIR" "$RUN_DIR" /var/lib/slurm /var/lib/slurm/slurmctld
chown munge:munge /run/munge
chmod 0755 /run/munge
chown mysql:mysql /run/mysqld

if [[ ! -s $MUNGE_KEY ]]; then
    log "creating munge key"
    install -d -o munge -g munge -m 0700 /etc/munge
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile="$MUNGE_KEY" --force
    else
        dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
    fi
fi
chown munge:munge "$MUNGE_KEY"
chmod 0400 "$MUNGE_KEY"

# install_if_changed SRC DEST OWNER MODE: returns 0 when DEST changed.
install_if_changed() {
    local src=$1 dest=$2 owner=$3 mode=$4
    if [[ -f $dest ]] && cmp -s "$src" "$dest"; then
        chown "$owner" "$dest"
        chmod "$mode" "$dest"
        rm -f "$src"
        return 1
    fi
    install -o "${owner%%:*}" -g "${owner##*:}" -m "$mode" "$src" "$dest"
    rm -f "$src"
    return 0
}

NODE=$(hostname -s)
# The node line copies the topology slurmd detects (CPUs, boards, sockets,
# cores, threads); memory is set below to ~90% of MemTotal so that slurmd never
# finds less than configured (which would drain the node).
topology=$(slurmd -C 2>/dev/null | awk 'NR == 1' | tr ' ' '\n' |
    grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')
[[ $topology == *CPUs=* ]] || die "could not read the node topology from 'slurmd -C'"
mem_total_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
real_memory=$((mem_total_kb * 9 / 10 / 1024))

tmp=$(mktemp)
cat >"$tmp" <<EOF
# Written by nnstudy workflow/cluster/slurm-up.sh; rewritten on every run.
ClusterName=$CLUSTER_NAME
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
# No usable cgroups here (no systemd): track processes through /proc, bind no
# tasks, gather accounting from /proc.  Limits are not enforced.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# Accounting through slurmdbd: the Snakemake SLURM plugin checks job states
# with sacct.
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
# Keep finished jobs visible to squeue/scontrol for 10 minutes.
MinJobAge=600
MailProg=/bin/true
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=60
SlurmdTimeout=60
InactiveLimit=0
KillWait=10
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 ${topology}RealMemory=$real_memory State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
slurm_conf_changed=0
install_if_changed "$tmp" "$SLURM_CONF" root:root 0644 && slurm_conf_changed=1

# Keep the database password of an existing slurmdbd.conf; make one otherwise.
db_pass=""
if [[ -f $SLURMDBD_CONF ]]; then
    db_pass=$(sed -n 's/^StoragePass=//p' "$SLURMDBD_CONF")
fi
if [[ -z $db_pass ]]; then
    db_pass=$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 32 || true)
fi
tmp=$(mktemp)
cat >"$tmp" <<EOF
# Written by nnstudy workflow/cluster/slurm-up.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=slurm
LogFile=$LOG_DIR/slurmdbd.log
PidFile=$RUN_DIR/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=$db_pass
StorageLoc=$DB_NAME
EOF
# slurmdbd refuses a configuration file not owned by SlurmUser or readable by others.
install_if_changed "$tmp" "$SLURMDBD_CONF" slurm:slurm 0600 || true

# --------------------------------------------------------------------------
# 3. Daemons
# --------------------------------------------------------------------------
# is_running NAME: 0 when the PID in $STATE_DIR/NAME.pid is alive and its
# /proc/PID/comm is NAME.
is_running() {
    local name=$1 pidfile="$STATE_DIR/$1.pid" pid
    [[ -f $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]]
}

# last_output NAME: the last 20 lines NAME wrote since this script last started it.
last_output() {
    # shellcheck disable=SC2016  # sed script, not shell expansions
    sed -n '/^=== /h; /^=== /!H; ${x; p}' "$STATE_DIR/$1.out" 2>/dev/null | tail -n 20 >&2 || true
}

# start NAME CMD...: start CMD detached (new session), record its PID.
# CMD must exec into the daemon NAME so that $! is the daemon itself.
start() {
    local name=$1
    shift
    if is_running "$name"; then
        log "$name already running (pid $(<"$STATE_DIR/$name.pid"))"
        return 0
    fi
    rm -f "$STATE_DIR/$name.pid"
    local other
    if other=$(pgrep -x "$name"); then
        # Started by something else (another script, the package, a person):
        # leave it alone and do not record it, so slurm-down.sh will not stop it.
        log "$name already running outside this script (pid ${other//$'\n'/ }); using it"
        return 0
    fi
    # This script runs without job control, so the background child is not a
    # process group leader and setsid makes a new session without forking: $!
    # is the daemon's PID.
    printf '=== %s: slurm-up.sh starts %s\n' "$(date '+%F %T')" "$*" >>"$STATE_DIR/$name.out"
    setsid "$@" </dev/null >>"$STATE_DIR/$name.out" 2>&1 &
    local pid=$!
    echo "$pid" >"$STATE_DIR/$name.pid"
    local i
    for ((i = 0; i < 50; i++)); do
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name" ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if [[ $(cat "/proc/$pid/comm" 2>/dev/null) != "$name" ]]; then
        rm -f "$STATE_DIR/$name.pid"
        last_output "$name"
        die "$name did not start (see $STATE_DIR/$name.out)"
    fi
    log "started $name (pid $pid)"
}

# wait_for DAEMON CMD...: retry CMD every 0.5 s until it succeeds; fail after
# $TIMEOUT seconds, or at once when DAEMON (if this script started it) died.
wait_for() {
    local daemon=$1
    shift
    local deadline=$(($(date +%s) + TIMEOUT))
    until "$@" >/dev/null 2>&1; do
        if [[ -f $STATE_DIR/$daemon.pid ]] && ! is_running "$daemon"; then
            log "$daemon exited; its last output:"
            last_output "$daemon"
            return 1
        fi
        if (($(date +%s) >= deadline)); then
            return 1
        fi
        sleep 0.5
    done
}

# MariaDB (accounting storage).
if [[ ! -d /var/lib/mysql/mysql ]]; then
    log "initialising the MariaDB data folder"
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
        >>"$STATE_DIR/mariadb-install.out" 2>&1 ||
        die "mariadb-install-db failed, see $STATE_DIR/mariadb-install.out"
fi
start mariadbd mariadbd --user=mysql --bind-address=127.0.0.1 --port=3306 \
    --innodb-buffer-pool-size=512M --innodb-lock-wait-timeout=900
wait_for mariadbd mariadb-admin --protocol=socket ping ||
    die "MariaDB did not answer (timeout ${TIMEOUT}s) (see $STATE_DIR/mariadbd.out)"
# Database and user for slurmdbd; safe to repeat.  The password is passed on
# stdin, never on a command line.
mariadb --protocol=socket <<EOF || die "could not create the accounting database"
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$db_pass';
CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY '$db_pass';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$db_pass';
ALTER USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$db_pass';
GRANT ALL ON $DB_NAME.* TO 'slurm'@'localhost';
GRANT ALL ON $DB_NAME.* TO 'slurm'@'127.0.0.1';
FLUSH PRIVILEGES;
EOF

# munged must run as user munge; setpriv execs in place, so $! stays munged.
start munged setpriv --reuid=munge --regid=munge --init-groups munged --foreground
wait_for munged sh -c 'munge -n | unmunge' ||
    die "munge does not work (timeout ${TIMEOUT}s) (see $STATE_DIR/munged.out)"

start slurmdbd slurmdbd -D
wait_for slurmdbd bash -c 'exec 3<>/dev/tcp/127.0.0.1/6819' ||
    die "slurmdbd is not listening on 127.0.0.1:6819 (timeout ${TIMEOUT}s) (see $LOG_DIR/slurmdbd.log)"

was_running=0
is_running slurmctld && was_running=1
start slurmctld slurmctld -D
ctld_up() { scontrol ping 2>/dev/null | grep -q 'is UP'; }
wait_for slurmctld ctld_up ||
    die "slurmctld does not answer 'scontrol ping' (timeout ${TIMEOUT}s) (see $LOG_DIR/slurmctld.log)"
if ((was_running && slurm_conf_changed)); then
    log "slurm.conf changed; running scontrol reconfigure"
    scontrol reconfigure || die "scontrol reconfigure failed"
fi

start slurmd slurmd -D

# --------------------------------------------------------------------------
# 4. Readiness: node idle, accounting registered, a job step runs
# --------------------------------------------------------------------------
node_state() { sinfo -h -N -n "$NODE" -p "$PARTITION" -o '%T' 2>/dev/null | head -n1; }
node_idle() { [[ $(node_state) == idle ]]; }
if ! wait_for slurmd node_idle; then
    state=$(node_state)
    reason=$(sinfo -h -N -n "$NODE" -o '%E' 2>/dev/null | head -n1)
    die "node $NODE is '${state:-not listed}' (reason: ${reason:-none}) instead of idle after ${TIMEOUT}s; see $LOG_DIR/slurmd.log and $LOG_DIR/slurmctld.log"
fi
log "node $NODE idle in partition $PARTITION"

# slurmctld registers the cluster with slurmdbd by itself; sacct must answer.
cluster_known() { sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER_NAME"; }
wait_for slurmdbd cluster_known ||
    die "cluster $CLUSTER_NAME not registered in slurmdbd after ${TIMEOUT}s (see $LOG_DIR/slurmdbd.log)"
sacct -n -X >/dev/null 2>&1 || die "sacct does not work (see $LOG_DIR/slurmdbd.log)"

out=$(timeout "$TIMEOUT" srun -p "$PARTITION" -N1 -n1 -t 1 hostname 2>&1) ||
    die "'srun hostname' failed or timed out after ${TIMEOUT}s: $out"
log "srun hostname -> $out"
log "SLURM is up: partition $PARTITION, node $NODE (${topology}RealMemory=$real_memory); PID files in $STATE_DIR"
