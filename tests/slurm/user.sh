# user.sh — the job user of the Slurm suite: every job is submitted, and
# every evo-farm command run, by an unprivileged user the suite creates
# (TEST_USER, removed at exit), as at a site; the harness itself stays root
# for what only root may do (starting daemons, killing a node, reading the
# cluster's processes). Sourced by lib.sh after ../integration/lib.sh,
# which then calls user_make and user_reach_tree, and by
# tests/packaging/deb-check.sh (SCRATCH and HOME set, user_make).
#
# - srun, sbatch, salloc and scancel are wrappers in $SCRATCH/bin, first in
#   PATH, that run Slurm's command as TEST_USER with the caller's
#   environment (setpriv keeps it: SLURM_CONF, HOME, MODULEPATH...); as
#   TEST_USER already (an srun inside a job), they run it directly.
# - as_user CMD... runs anything else as TEST_USER (evo-farm status, a
#   local reference run, scontrol requeue of the user's own job).
# - user_dir DIR... makes directories the user owns (HOME, a job's folder).
# - SCRATCH belongs to the user; what root writes there is readable (umask
#   022), and the cluster's own folder stays root's (the munge key).
# If the tree under test is out of the user's reach (a clone under a 0700
# home), it is copied to a temporary folder the user can read, and the
# suite (SUITE_SCRIPT, default tests/slurm/run-all.sh) runs again from there.
# tests/adversary/run-all.sh sources this file too, its victim the user.
TEST_USER=${TEST_USER:-evofarm-test}

user_remove() {
    [ -n "${TEST_USER_MADE:-}" ] && userdel "$TEST_USER" 2> /dev/null
    [ -n "${EVO_TEST_TREE:-}" ] && rm -rf "$EVO_TEST_TREE"
    return 0
}

user_make() {
    local real
    umask 022
    if id -u "$TEST_USER" > /dev/null 2>&1; then # left by a suite that was killed
        usermod -d "$SCRATCH/home" "$TEST_USER" || return 1
    else
        useradd -M -U -d "$SCRATCH/home" -s /bin/sh "$TEST_USER" || return 1
    fi
    TEST_USER_MADE=1
    chown "$TEST_USER:" "$SCRATCH" "$HOME"
    chmod 755 "$SCRATCH"
    mkdir -p "$SCRATCH/bin"
    for cmd in srun sbatch salloc scancel; do
        real=$(command -v "$cmd") || continue
        cat > "$SCRATCH/bin/$cmd" <<WRAP
#!/bin/sh
[ "\$(id -un)" = $TEST_USER ] && exec $real "\$@"
exec setpriv --reuid=$TEST_USER --regid=$TEST_USER --init-groups $real "\$@"
WRAP
        chmod 755 "$SCRATCH/bin/$cmd"
    done
    export PATH="$SCRATCH/bin:$PATH"
}

as_user() { setpriv --reuid="$TEST_USER" --regid="$TEST_USER" --init-groups "$@"; }

user_dir() {
    mkdir -p "$@" && chown "$TEST_USER:" "$@"
}

# The tree out of the user's reach: run the suite again from a copy.
user_reach_tree() {
    local suite=${SUITE_SCRIPT:-tests/slurm/run-all.sh}
    as_user test -x "$EVO" -a -r "$ROOT/$suite" -a -r "$ROOT/python/evofarm/__init__.py" && return 0
    [ -z "${EVO_TEST_TREE:-}" ] || { echo "run-all.sh: the job user $TEST_USER cannot read $ROOT"; exit 1; }
    local copy
    copy=$(mktemp -d /tmp/evo-farm-tree.XXXXXX) && chmod 755 "$copy" &&
        tar -C "$ROOT" --exclude=./.git -cf - . | tar -C "$copy" -xf - || { echo "run-all.sh: cannot copy $ROOT"; exit 1; }
    echo "run-all.sh: $ROOT is out of the job user's reach: running from a copy in $copy"
    user_remove
    rm -rf "$SCRATCH"
    EVO_TEST_TREE=$copy exec "$copy/$suite"
}

