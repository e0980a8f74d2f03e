#!/usr/bin/env bash
# cluster.sh — a real two-node Slurm (this Debian's packages: 22.05 on the
# host, 24.11 or 26.05 inside tests/slurm/versions' roots) on this
# machine, for the tests: a private munged, slurmctld, and one slurmd per
# "node", each in its own UTS namespace (its own hostname).
#
#   cluster.sh start DIR [loopback|netns]   bring it up, wait until idle
#   cluster.sh stop DIR                     stop what start started (by PID)
#   cluster.sh kill-node DIR N              kill -9 node N: its slurmd and
#                                           every process it runs (a node lost)
#   cluster.sh start-node DIR N             bring node N back, wait until idle
#   cluster.sh pids DIR REGEX               the PIDs of the processes on this
#                                           cluster's nodes (their slurmstepds,
#                                           tasks and what those start) whose
#                                           command line matches REGEX
#
# loopback: every slurmd on 127.0.0.1 with its own port.
# netns:    every node also gets its own network namespace and address
#           (10.201.0.1N/24 on a bridge this script creates), so a farm
#           must advertise a routable address, not 127.0.0.1; every node
#           also has docker0 172.17.0.1/16 and usb0 169.254.95.120/16,
#           listed first, which a worker must never dial, and ib0
#           10.202.0.1N/24 on a second bridge: a stand-in for IPoIB.
# Clients need SLURM_CONF=DIR/etc/slurm.conf (printed by start). The
# plugin is loaded from PLUGIN (default: $BUILD/plugin/spank_evo_farm.so) via
# the cluster's own PlugStackConfig, with PLUGIN_ARGS as its arguments, or
# PLUGSTACK names the plugstack file to use instead (an installed one).
# Job credentials live 15 s (AuthInfo cred_expire; Slurm's default is
# 120): a requeued job may start again only once they have expired
# (batch_requeue_fini in src/slurmctld/job_mgr.c), and the requeue test
# waits for that.
# Nothing outside DIR and the namespaces/links it names is touched.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODES=${NODES:-2}
# Each node declares the CPUs its cpuset really holds (start_slurmd gives
# every node this machine's whole cpuset), as a site's slurm.conf matches
# its hardware: a step of more tasks than a node has CPUs asks for -O.
# Memory is a consumable (CR_Core_Memory, 1000 MB per CPU unless --mem
# says otherwise, 4000 MB a node), so ConstrainRAMSpace enforces --mem.
cpuset_count() { # "0-1,4" -> 3; nproc without a v1 cpuset
    local n=0 r cpus
    cpus=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus 2> /dev/null) || { nproc; return; }
    for r in ${cpus//,/ }; do
        case $r in *-*) n=$((n + ${r#*-} - ${r%-*} + 1)) ;; *) n=$((n + 1)) ;; esac
    done
    [ "$n" -gt 0 ] && echo "$n" || nproc
}
CPUS=${CPUS:-$(cpuset_count)}
PORT=${SLURM_TEST_PORT:-17817}
BRIDGE=evofbr0
IB_BRIDGE=evofib0
# cgroups, as a site runs them: proctrack/cgroup, task/cgroup and
# task/affinity on cgroup v1 (cgroup.conf: ConstrainCores,
# ConstrainRAMSpace), each node in a cgroup namespace of its own (see
# start_slurmd). CGROUPS=auto (the default) uses them where each
# controller is a v1 hierarchy of this machine (22.05, 24.11 and 26.05,
# which deprecates v1 but runs it), CGROUPS=1 always, and CGROUPS=0 never
# (proctrack/linuxproc, or PROCTRACK=proctrack/pgid; task/none).
CONTROLLERS="freezer cpuset memory cpuacct devices"
cgroups_usable() {
    local c
    for c in $CONTROLLERS; do
        [ "$(stat -f -c %T "/sys/fs/cgroup/$c" 2> /dev/null)" = cgroupfs ] || return 1
    done
}
CGROUPS=${CGROUPS:-auto}
[ "$CGROUPS" = auto ] && { cgroups_usable && CGROUPS=1 || CGROUPS=0; }
if [ "$CGROUPS" = 1 ]; then
    PROCTRACK=proctrack/cgroup TASKPLUGIN=task/cgroup,task/affinity
else # PROCTRACK may name another tracker a site runs without cgroups (proctrack/pgid)
    PROCTRACK=${PROCTRACK:-proctrack/linuxproc} TASKPLUGIN=task/none
fi
NET=10.201.0
IB_NET=10.202.0

die() { echo "cluster.sh: $*" >&2; exit 1; }

alive() { # PID is running and not a zombie (PID 1 may reap late)
    [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null)" != Z ]
}

write_conf() {
    local dir=$1 mode=$2 host ctl addr
    host=$(hostname -s)
    ctl=127.0.0.1
    [ "$mode" = netns ] && ctl=$NET.1
    cat > "$dir/etc/slurm.conf" <<CONF
ClusterName=evofarmtest
SlurmctldHost=$host($ctl)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
AuthType=auth/munge
AuthInfo=socket=$dir/munge-run/munged.sock,cred_expire=15
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
TmpFS=$dir/tmp/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
MailProg=/bin/true
ProctrackType=$PROCTRACK
TaskPlugin=$TASKPLUGIN
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=${MPI_DEFAULT:-none}
ReturnToService=2
KillWait=2
InactiveLimit=0
SlurmdTimeout=5
MessageTimeout=5
SchedulerParameters=batch_sched_delay=0,bf_interval=1
LaunchParameters=use_interactive_step
JobRequeue=1
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
PlugStackConfig=$dir/etc/plugstack.conf
CONF
    cat > "$dir/etc/cgroup.conf" <<CONF
CgroupPlugin=cgroup/v1
CgroupMountpoint=/sys/fs/cgroup
ConstrainCores=yes
ConstrainRAMSpace=yes
CONF
    for n in $(seq "$NODES"); do
        addr=127.0.0.1
        [ "$mode" = netns ] && addr=$NET.$((10 + n))
        echo "NodeName=node$n NodeHostname=node$n NodeAddr=$addr Port=$((PORT + 10 + n)) CPUs=$CPUS RealMemory=4000 State=UNKNOWN" >> "$dir/etc/slurm.conf"
    done
    # urgent preempts debug's jobs by requeueing them, as a site's
    # high-priority partition does (test_job_end.sh)
    echo "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP PriorityTier=1" >> "$dir/etc/slurm.conf"
    echo "PartitionName=urgent Nodes=ALL MaxTime=INFINITE State=UP PriorityTier=2" >> "$dir/etc/slurm.conf"
    if [ -n "${PLUGSTACK:-}" ]; then # an installed snippet, e.g. from the Debian package
        sed -i "s|^PlugStackConfig=.*|PlugStackConfig=$PLUGSTACK|" "$dir/etc/slurm.conf"
    else
        echo "required ${PLUGIN:-$ROOT/${BUILD:-build}/plugin/spank_evo_farm.so} ${PLUGIN_ARGS:-evo_farm=$ROOT/${BUILD:-build}/bin/evo-farm}" > "$dir/etc/plugstack.conf"
    fi
}

make_links() {
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
    ip link add "$IB_BRIDGE" type bridge
    ip addr add "$IB_NET.1/24" dev "$IB_BRIDGE"
    ip link set "$IB_BRIDGE" up
    for n in $(seq "$NODES"); do
        ip netns add "evof$n"
        # What a site's nodes carry beside their network, the same on every
        # node and listed before it (getifaddrs order): docker0's
        # 172.17.0.1/16 and a BMC's link-local address on a USB interface.
        # (Bridges: this kernel has no dummy links.)
        ip -n "evof$n" link add docker0 type bridge
        ip -n "evof$n" addr add 172.17.0.1/16 dev docker0
        ip -n "evof$n" link set docker0 up
        ip -n "evof$n" link add usb0 type bridge
        ip -n "evof$n" addr add 169.254.95.120/16 dev usb0
        ip -n "evof$n" link set usb0 up
        ip link add "evofv$n" type veth peer name eth0 netns "evof$n"
        ip link set "evofv$n" master "$BRIDGE" up
        ip -n "evof$n" addr add "$NET.$((10 + n))/24" dev eth0
        ip -n "evof$n" link set eth0 up
        # A second network, as InfiniBand's IPoIB beside Ethernet.
        ip link add "evofi$n" type veth peer name ib0 netns "evof$n"
        ip link set "evofi$n" master "$IB_BRIDGE" up
        ip -n "evof$n" addr add "$IB_NET.$((10 + n))/24" dev ib0
        ip -n "evof$n" link set ib0 up
        ip -n "evof$n" link set lo up
        ip -n "evof$n" route add default via "$NET.1"
    done
}

remove_links() {
    for n in $(seq "$NODES"); do
        ip netns del "evof$n" 2>/dev/null || true
        ip link del "evofv$n" 2>/dev/null || true
        ip link del "evofi$n" 2>/dev/null || true
    done
    ip link del "$BRIDGE" 2>/dev/null || true
    ip link del "$IB_BRIDGE" 2>/dev/null || true
}

start() {
    local dir=$1 mode=${2:-loopback} n pid
    [ "$(id -u)" = 0 ] || die "needs root (slurmd runs as root)"
    command -v slurmctld > /dev/null || die "Slurm is not installed (scripts/install-deps)"
    mkdir -p "$dir"/{etc,munge,munge-run,state,run,log}
    dir=$(cd "$dir" && pwd)
    for n in $(seq "$NODES"); do mkdir -p "$dir/spool/node$n" "$dir/tmp/node$n"; done
    echo "$mode" > "$dir/mode"
    write_conf "$dir" "$mode"
    chmod 700 "$dir/munge"
    chmod 755 "$dir/munge-run" # the socket: every user's commands authenticate through it
    mungekey --create --keyfile="$dir/munge/munge.key" --force 2> /dev/null
    munged --socket="$dir/munge-run/munged.sock" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/munge-run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" --force
    [ "$mode" = netns ] && { remove_links; make_links; }
    SLURM_CONF=$dir/etc/slurm.conf slurmctld -f "$dir/etc/slurm.conf" -i
    for n in $(seq "$NODES"); do start_slurmd "$dir" "$n"; done
    wait_idle "$dir" "$NODES"
    echo "SLURM_CONF=$dir/etc/slurm.conf"
}

# A node's cgroup of each controller: the root of its cgroup namespace,
# where its slurmd finds /sys/fs/cgroup/CONTROLLER, as on a machine of its
# own; stop removes it. (Debian's Slurm names its tree slurm_NODENAME, so
# the two nodes would not share a job's cgroups even without it; a build
# without multiple slurmd support would, and one node's step end would
# kill the other's tasks, proctrack_p_signal.)
node_cgroup() { echo "/sys/fs/cgroup/$1/evofarm-$PORT-node$2"; }

start_slurmd() { # DIR N
    local enter=() c
    [ "$(cat "$1/mode")" = netns ] && enter=(nsenter "--net=/run/netns/evof$2")
    if [ "$CGROUPS" != 1 ]; then
        "${enter[@]}" unshare --uts sh -c "hostname node$2 && exec slurmd -f '$1/etc/slurm.conf' -N node$2"
        return
    fi
    for c in $CONTROLLERS; do mkdir -p "$(node_cgroup "$c" "$2")"; done
    cat /sys/fs/cgroup/cpuset/cpuset.cpus > "$(node_cgroup cpuset "$2")/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems > "$(node_cgroup cpuset "$2")/cpuset.mems"
    local into="" mounts="mount -t tmpfs -o mode=755 cgroups /sys/fs/cgroup"
    for c in $CONTROLLERS; do
        into+="echo \$\$ > $(node_cgroup "$c" "$2")/cgroup.procs && "
        mounts+=" && mkdir /sys/fs/cgroup/$c && mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c"
    done
    "${enter[@]}" sh -c "$into exec unshare --uts --cgroup --mount sh -c '$mounts && hostname node$2 && exec slurmd -f $1/etc/slurm.conf -N node$2'"
}

# Removes what start_slurmd made in the cgroup trees (deepest first).
remove_cgroups() {
    local n c
    for n in $(seq "$NODES"); do
        for c in $CONTROLLERS; do
            [ -d "$(node_cgroup "$c" "$n")" ] || continue
            find "$(node_cgroup "$c" "$n")" -depth -type d -exec rmdir {} + 2> /dev/null || true
        done
    done
}

wait_idle() { # DIR COUNT — until COUNT nodes are idle (10 s at most, even with slurmctld gone)
    local end=$(($(date +%s) + 10))
    while [ "$(date +%s)" -lt "$end" ]; do
        [ "$(SLURM_CONF=$1/etc/slurm.conf timeout 2 sinfo -h -N -o '%T' 2> /dev/null | grep -cx idle)" -ge "$2" ] &&
            return 0
        sleep 0.1
    done
    tail -5 "$1"/log/slurm*.log >&2
    die "nodes did not become idle; see $1/log"
}

kill_node() { # DIR N
    local pidfile=$1/run/slurmd-node$2.pid pid
    [ -f "$pidfile" ] || die "node$2 is not running"
    pid=$(cat "$pidfile")
    for p in $pid $(node_processes "$pid"); do kill -9 "$p" 2> /dev/null || true; done
    rm -f "$pidfile"
}

start_node() { # DIR N — after kill_node; the controller returns it to service
    local dir=$1
    start_slurmd "$dir" "$2"
    SLURM_CONF=$dir/etc/slurm.conf scontrol update nodename="node$2" state=resume 2> /dev/null || true
    wait_idle "$dir" "$NODES"
}

# Every process in the UTS namespace of node PID (its slurmstepd's and
# tasks, which outlive slurmd): the only way to leave nothing running.
# Nothing when PID shares this script's namespace (no node of ours). The
# -ef test compares the namespaces' inodes without a process per entry.
node_processes() {
    local p
    [ -e "/proc/$1/ns/uts" ] || return 0
    [ "/proc/$1/ns/uts" -ef "/proc/$$/ns/uts" ] && return 0
    for p in /proc/[0-9]*; do
        [ "$p/ns/uts" -ef "/proc/$1/ns/uts" ] && echo "${p#/proc/}"
    done
    return 0
}

# pids DIR REGEX: what runs on this cluster's nodes and matches, and never
# a process of the machine outside them (another user's, another cluster's).
pids() {
    local dir=$1 pidfile pid args
    for pidfile in "$dir"/run/slurmd-*.pid; do
        [ -f "$pidfile" ] || continue
        for pid in $(node_processes "$(cat "$pidfile")"); do
            mapfile -d '' args < "/proc/$pid/cmdline" 2> /dev/null || continue
            [[ "${args[*]} " =~ $2 ]] && echo "$pid"
        done
    done
    return 0
}

stop() {
    local dir=$1 pidfile pid
    [ -d "$dir/run" ] || return 0
    for pidfile in "$dir"/run/slurmd-*.pid; do
        [ -f "$pidfile" ] || continue
        for pid in $(node_processes "$(cat "$pidfile")"); do
            [ "$pid" = "$(cat "$pidfile")" ] || kill -9 "$pid" 2> /dev/null || true
        done
    done
    for pidfile in "$dir"/run/slurmd-*.pid "$dir/run/slurmctld.pid" "$dir/munge-run/munged.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2> /dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -9 "$pid" 2> /dev/null || true
        rm -f "$pidfile"
    done
    [ "$(cat "$dir/mode" 2> /dev/null)" = netns ] && remove_links
    remove_cgroups
    return 0
}

case ${1:-} in
start) [ $# -ge 2 ] || die "usage: cluster.sh start DIR [loopback|netns]"; start "$2" "${3:-loopback}" ;;
stop) [ $# -eq 2 ] || die "usage: cluster.sh stop DIR"; stop "$2" ;;
kill-node) [ $# -eq 3 ] || die "usage: cluster.sh kill-node DIR N"; kill_node "$(cd "$2" && pwd)" "$3" ;;
start-node) [ $# -eq 3 ] || die "usage: cluster.sh start-node DIR N"; start_node "$(cd "$2" && pwd)" "$3" ;;
pids) [ $# -eq 3 ] || die "usage: cluster.sh pids DIR REGEX"; pids "$2" "$3" ;;
*) die "usage: cluster.sh start DIR [loopback|netns] | stop DIR | kill-node DIR N | start-node DIR N | pids DIR REGEX" ;;
esac
