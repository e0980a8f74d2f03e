#!/usr/bin/env bash
# root.sh — Debian roots (debootstrap) holding another Slurm than the
# host's, so that the project can be built and its Slurm tests run against
# Slurm 24.11 (trixie) and 26.05 (sid). A root is made once and reused.
#
#   root.sh make SUITE          make ROOTS/SUITE unless already complete:
#                               debootstrap --variant=minbase, then apt-get
#                               install of the packages below (no daemon is
#                               started: policy-rc.d exits 101); a stamp file
#                               marks it complete, a root without one is
#                               removed and made again
#   root.sh run SUITE CMD...    run CMD as root inside ROOTS/SUITE, cwd /src
#                               (this source tree, read-write), with /proc,
#                               /sys (recursive), /dev bound in and fresh
#                               tmpfs on /run, /tmp and /dev/shm; exits with
#                               CMD's status
#   root.sh versions SUITE      Slurm, PMIx and munge versions inside, and
#                               which MPI plugins its Slurm has
#
# SUITE is trixie (Slurm 24.11) or sid (Slurm 26.05). ROOTS is
# $EVO_FARM_ROOTS, default /var/cache/evo-farm/roots. The mirror is the
# first non-security "deb" URI of this machine's own apt sources
# (/etc/apt/sources.list.d/*.sources, then *.list and /etc/apt/sources.list),
# or $EVO_FARM_MIRROR.
#
# `run` works in its own mount, PID and network namespaces: nothing it
# mounts is seen by the host and nothing needs unmounting after; whatever
# CMD leaves running (munged, slurmctld, slurmd...) is killed when CMD
# ends; ports, bridges and network namespaces made inside (cluster.sh's
# netns mode) never clash with a cluster the host runs at the same time.
# That network has loopback and one unrouted address (192.0.2.1, for
# Slurm 24.11+, which finds no IPv4 address otherwise), no DNS, and an
# /etc/hosts naming this machine 127.0.0.1; EVO_FARM_ROOT_NET=host shares
# the host's network, /etc/hosts and resolv.conf instead. CMD sees
# EVO_FARM_ROOT=SUITE. Start, use and stop a test cluster within one run:
#   root.sh run trixie make BUILD=build-trixie slurm-check
# Needs root, debootstrap, util-linux (unshare, flock, chroot from coreutils).
set -eu

ROOTS=${EVO_FARM_ROOTS:-/var/cache/evo-farm/roots}
SRC=$(cd "$(dirname "$0")/../../.." && pwd)
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
STAMP=.evo-farm-root-complete
PATH_IN=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# What the project needs to build (make all, make unit-check) and to run
# tests/slurm and `make deb` (scripts/install-deps' Debian 12 list without
# the man-page, valgrind, rpm and pytest tools), plus libpmi2-0-dev. "a|b" takes the
# first of the names the suite has (for packages renamed since bookworm).
PACKAGES=(
    build-essential pkg-config ca-certificates
    "libzmq3-dev|libzmq-dev" libsodium-dev uthash-dev liblapacke-dev libyaml-dev libcmocka-dev
    libpmix-dev libslurm-dev libpmi2-0-dev
    slurmctld slurmd slurm-client slurm-wlm-basic-plugins munge
    environment-modules iproute2 util-linux hostname procps
    python3 python3-venv python3-deap python3-numpy python3-matplotlib
    debhelper dpkg-dev fakeroot git
)

# The module system: Tcl's environment-modules in trixie, as on the host,
# and Lmod in sid (Debian's lmod conflicts with environment-modules, so
# a root carries one or the other): the Slurm suite's module tests run
# under both (tests/slurm/test_environment.sh).
packages_for() { # SUITE — PACKAGES as that suite's root gets them, one a line
    local p
    for p in "${PACKAGES[@]}"; do
        [ "$1" = sid ] && [ "$p" = environment-modules ] && p=lmod
        echo "$p"
    done
}

say() { echo "root.sh: $*"; }
die() { echo "root.sh: $*" >&2; exit 1; }

suite_ok() {
    case ${1:-} in
    trixie | sid) ;;
    "") die "no SUITE given (trixie or sid)" ;;
    *) die "unknown suite '$1' (trixie or sid)" ;;
    esac
}

apt_opts() { # SUITE — apt-get options for that suite
    printf '%s\n' -q -o Acquire::Languages=none -o Dpkg::Use-Pty=0
    # sid's Release file is past its Valid-Until on this machine's clock
    [ "$1" = sid ] && printf '%s\n' -o Acquire::Check-Valid-Until=false
    return 0
}

# The first "deb" URI of this machine's apt sources whose suites are not
# -security: deb822 stanzas first, then one-line sources.
mirror() {
    local f m
    if [ -n "${EVO_FARM_MIRROR:-}" ]; then echo "$EVO_FARM_MIRROR"; return 0; fi
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        m=$(awk 'BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    l = $i
                    if (l ~ /^[ \t]*#/) continue
                    key = tolower(l); sub(/:.*/, "", key)
                    sub(/^[^:]*:[ \t]*/, "", l)
                    if (key == "types") types = l
                    else if (key == "uris") uris = l
                    else if (key == "suites") suites = l
                    else if (key == "enabled") enabled = tolower(l)
                }
                if (enabled == "no" || suites ~ /-security/ || (" " types " ") !~ / deb /) next
                n = split(uris, u, /[ \t]+/)
                for (j = 1; j <= n; j++) if (u[j] ~ /^(https?|ftp|file):/) { print u[j]; exit }
            }' "$f")
        if [ -n "$m" ]; then echo "${m%/}"; return 0; fi
    done
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
        [ -f "$f" ] || continue
        m=$(awk '$1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) !~ /-security/ && $i ~ /^(https?|ftp|file):/) { print $i; exit }
            }' "$f")
        if [ -n "$m" ]; then echo "${m%/}"; return 0; fi
    done
    die "no deb URI found in /etc/apt/sources.list.d/*.sources, *.list or /etc/apt/sources.list (set EVO_FARM_MIRROR)"
}

# Refuse to touch a root something is mounted under (a `run` or `make`
# still going on), before removing it.
nothing_mounted_under() {
    if awk -v d="$1/" 'index($5 "/", d) == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        die "something is mounted under $1; is a 'root.sh run' still going?"
    fi
}

# The install, run by bash inside the root (chroot) as: SUITE APT-OPTION... -- PACKAGE...
# shellcheck disable=SC2016 # expanded by that bash
INSTALL_SCRIPT='
set -eu
suite=$1; shift
opts=()
while [ "$1" != -- ]; do opts+=("$1"); shift; done
shift
echo "root.sh: [$suite] apt-get update" >&3
apt-get "${opts[@]}" update
has() { # a package with an install candidate (not a purely virtual one)
    local c
    c=$(apt-cache policy "$1" 2>/dev/null | awk "/Candidate:/ { print \$2 }")
    [ -n "$c" ] && [ "$c" != "(none)" ]
}
pkgs=() missing=()
for want in "$@"; do
    got=""
    IFS="|" read -ra alts <<< "$want"
    for p in "${alts[@]}"; do has "$p" && { got=$p; break; }; done
    if [ -z "$got" ]; then missing+=("$want")
    else
        [ "$got" = "${alts[0]}" ] || echo "root.sh: [$suite] ${alts[0]} is $got here" >&3
        pkgs+=("$got")
    fi
done
[ ${#missing[@]} = 0 ] || { echo "root.sh: [$suite] no such package here: ${missing[*]}" >&3; exit 1; }
echo "root.sh: [$suite] apt-get install ${#pkgs[@]} packages (and what they depend on): ${pkgs[*]}" >&3
apt-get "${opts[@]}" install -y --no-install-recommends "${pkgs[@]}"
apt-get clean
echo "root.sh: [$suite] $(dpkg-query -W -f "\${db:Status-Abbrev}\n" | grep -c "^ii") packages installed" >&3
'

# Inside fresh mount+PID namespaces (so that debootstrap's own mounts and
# any process a package might start end with it): make ROOTS/SUITE.
make_in_ns() { # SUITE DIR MIRROR LOG
    local suite=$1 dir=$2 mirror=$3 log=$4 opts packages
    mapfile -t opts < <(apt_opts "$suite")
    mapfile -t packages < <(packages_for "$suite")
    say "[$suite] debootstrap --variant=minbase $suite $dir $mirror"
    debootstrap --variant=minbase "$suite" "$dir" "$mirror" >> "$log" 2>&1 ||
        { tail -20 "$log" >&2; die "[$suite] debootstrap failed (log: $log)"; }
    say "[$suite] $(grep -c '^I: Retrieving .* ' "$log") packages bootstrapped"
    # no daemon may start inside the root while packages are installed
    printf '#!/bin/sh\nexit 101\n' > "$dir/usr/sbin/policy-rc.d"
    chmod 755 "$dir/usr/sbin/policy-rc.d"
    if [ "$suite" = sid ]; then # for apt-get run later inside the root too
        echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99evo-farm-valid-until"
    fi
    mkdir -p "$dir/src"
    [ -s "$dir/etc/resolv.conf" ] || cp /etc/resolv.conf "$dir/etc/resolv.conf"
    mount -t proc proc "$dir/proc"
    # apt's output goes to the log, the script's own progress lines to fd 3
    chroot "$dir" /usr/bin/env -i PATH="$PATH_IN" HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        /bin/bash -c "$INSTALL_SCRIPT" root.sh "$suite" "${opts[@]}" -- "${packages[@]}" \
        3>&1 < /dev/null >> "$log" 2>&1 ||
        { tail -20 "$log" >&2; die "[$suite] installing the packages failed (log: $log)"; }
    umount "$dir/proc"
}

cmd_make() { # SUITE
    local suite=$1 dir=$ROOTS/$1 start mirror log packages
    mapfile -t packages < <(packages_for "$suite")
    start=$(date +%s)
    [ "$(id -u)" = 0 ] || die "needs root"
    command -v debootstrap > /dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
    mkdir -p "$ROOTS"
    exec 9> "$ROOTS/.$suite.lock"
    flock 9 # one make of a suite at a time
    if [ -f "$dir/$STAMP" ]; then
        if [ "$(sed -n 's/^packages: //p' "$dir/$STAMP")" = "${packages[*]}" ]; then
            say "[$suite] $dir is complete"
            return 0
        fi
        say "[$suite] $dir was made for another package list; making it again"
    fi
    if [ -e "$dir" ]; then
        nothing_mounted_under "$dir"
        say "[$suite] removing the incomplete $dir"
        rm -rf --one-file-system "$dir"
    fi
    mirror=$(mirror)
    mkdir -p "$dir"
    log=$ROOTS/$suite.log
    : > "$log"
    unshare --mount --propagation private --pid --fork --kill-child \
        "$SELF" _make-in-ns "$suite" "$dir" "$mirror" "$log"
    mv "$log" "$dir/var/log/evo-farm-make.log"
    {
        echo "suite: $suite"
        echo "mirror: $mirror"
        echo "made: $(date -u +%FT%TZ) in $(($(date +%s) - start)) s"
        echo "packages: ${packages[*]}"
    } > "$dir/$STAMP"
    say "[$suite] $dir complete in $(($(date +%s) - start)) s, $(du -sh --one-file-system "$dir" | cut -f1)"
}

run_in_ns() { # SUITE DIR CMD... — in the new namespaces
    local suite=$1 dir=$2 rc=0
    shift 2
    if [ "${EVO_FARM_ROOT_NET:-}" != host ]; then
        # Slurm 24.11 and later resolve with AF_INET and AI_ADDRCONFIG, which
        # glibc answers with EAI_NONAME when the only IPv4 address is
        # loopback's: give the private network one more (TEST-NET-1, on a
        # bridge with nothing attached, or a dummy).
        ip link set lo up
        ip link add evofroot0 type bridge 2> /dev/null || ip link add evofroot0 type dummy ||
            die "cannot add an interface to the private network (try EVO_FARM_ROOT_NET=host)"
        ip addr add 192.0.2.1/32 dev evofroot0
        ip link set evofroot0 up
    fi
    # the root a mount point of its own, so that "/" inside is one (ip
    # netns add makes / rslave, which fails on a directory of a mount)
    mount --bind "$dir" "$dir"
    mount -t proc proc "$dir/proc"
    mount --rbind /sys "$dir/sys"
    mount --rbind /dev "$dir/dev"
    mount -t tmpfs -o mode=1777 tmpfs "$dir/dev/shm"
    mount -t tmpfs -o mode=755 tmpfs "$dir/run"
    mkdir -p "$dir/run/lock" && chmod 1777 "$dir/run/lock"
    mount -t tmpfs -o mode=1777 tmpfs "$dir/tmp"
    mount --bind "$SRC" "$dir/src"
    # This machine's name must resolve inside (slurmctld looks up its
    # SlurmctldHost, munged its origin): to loopback, the only interface
    # of the private network; with the host's network, as the host has it.
    if [ "${EVO_FARM_ROOT_NET:-}" = host ]; then
        mount --bind -o ro /etc/hosts "$dir/etc/hosts"
        mount --bind -o ro /etc/resolv.conf "$dir/etc/resolv.conf"
    else
        local names
        names=$(printf '%s\n' "$(hostname -s)" "$(hostname)" | awk 'NF && !seen[$0]++' | tr '\n' ' ')
        printf '127.0.0.1\tlocalhost %s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' "${names% }" > "$dir/run/hosts"
        mount --bind -o ro "$dir/run/hosts" "$dir/etc/hosts"
        # and no name server: a lookup of an unknown name (slurmd looks up
        # node1...) must fail at once, not after resolv.conf's timeouts,
        # which are longer than cluster.sh's MessageTimeout
        echo "# root.sh run: a private network without DNS" > "$dir/run/resolv.conf"
        mount --bind -o ro "$dir/run/resolv.conf" "$dir/etc/resolv.conf"
    fi
    # CMD runs as a child, not as PID 1 of the namespace, so that signals
    # behave as usual; when this shell exits the kernel kills the rest.
    env -u TMPDIR PATH="$PATH_IN" HOME=/root EVO_FARM_ROOT="$suite" \
        chroot "$dir" /bin/sh -c 'cd /src && exec "$@"' root.sh "$@" || rc=$?
    exit $rc
}

cmd_run() { # SUITE CMD...
    local suite=$1 dir=$ROOTS/$1 net=(--net)
    shift
    [ $# -gt 0 ] || die "usage: root.sh run SUITE CMD..."
    [ "$(id -u)" = 0 ] || die "needs root"
    [ -f "$dir/$STAMP" ] || die "no complete root at $dir (root.sh make $suite)"
    [ "${EVO_FARM_ROOT_NET:-}" = host ] && net=()
    exec 9< "$ROOTS/.$suite.lock"
    flock -s 9 # a make that redoes the root waits until no run uses it
    exec unshare --mount --propagation private --pid --fork --kill-child "${net[@]}" \
        "$SELF" _run-in-ns "$suite" "$dir" "$@"
}

cmd_versions() { # SUITE
    local suite=$1 dir=$ROOTS/$1 plugdir p
    [ -f "$dir/$STAMP" ] || die "no complete root at $dir (root.sh make $suite)"
    echo "suite:  $suite ($(cat "$dir/etc/debian_version"))"
    dpkg-query --admindir="$dir/var/lib/dpkg" -W -f '${db:Status-Abbrev} ${Package} ${Version}\n' \
        'slurm*' 'libslurm*' 'libpmi*' 'libpmix*' munge 2> /dev/null |
        awk '$1 == "ii" { printf "%-26s %s\n", $2, $3 }'
    echo "pmix.pc: $(chroot "$dir" pkg-config --modversion pmix 2> /dev/null || echo none)"
    plugdir=$(dpkg-query --admindir="$dir/var/lib/dpkg" -L slurm-wlm-basic-plugins 2> /dev/null |
        grep -E '/(auth_munge|proctrack_linuxproc|select_cons_tres)\.so$' | head -1)
    plugdir=${plugdir%/*}
    [ -n "$plugdir" ] || { echo "plugin dir: not found (slurm-wlm-basic-plugins has no auth_munge.so)"; return 0; }
    echo "plugin dir: $plugdir"
    for p in mpi_pmix.so mpi_pmi2.so; do
        if [ -e "$dir$plugdir/$p" ]; then echo "$p: yes"; else echo "$p: no"; fi
    done
    printf 'mpi plugins:'
    for p in "$dir$plugdir"/mpi_*.so; do [ -e "$p" ] && printf ' %s' "${p##*/}"; done
    echo
}

case ${1:-} in
make) suite_ok "${2:-}"; cmd_make "$2" ;;
run) suite_ok "${2:-}"; suite=$2; shift 2; cmd_run "$suite" "$@" ;;
versions) suite_ok "${2:-}"; cmd_versions "$2" ;;
_make-in-ns) shift; make_in_ns "$@" ;;
_run-in-ns) shift; run_in_ns "$@" ;;
*) die "usage: root.sh make SUITE | run SUITE CMD... | versions SUITE   (SUITE: trixie or sid)" ;;
esac
