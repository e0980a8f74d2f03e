#!/usr/bin/env bash
# run-all.sh — end-to-end tests against a real two-node Slurm that this
# script starts (tests/slurm/cluster.sh) and stops again: the SPANK plugin,
# PMIx wire-up, farms spread over both nodes, environments, failures.
# Needs root and Debian's slurm-wlm, munge, libpmix (scripts/install-deps).
# lib.sh holds what the tests share; each test_*.sh file defines functions
# named t_*, which run in the order of TEST_ORDER below.
set -u
cd "$(dirname "$0")" || exit 1
. ./lib.sh
for file in test_*.sh; do
    . "./$file"
done

# The order the tests run in, one cluster for them all: a test may find the
# cluster as the ones before it left it. Every t_* function must be named
# here (run_tests fails otherwise). Last, the two that disturb the cluster:
# the user errors (plugstack.conf rewritten for a while; both nodes must be
# idle after) and the whole node killed (node2 lost and started again).
# shellcheck disable=SC2034 # read by run_tests (../integration/lib.sh)
TEST_ORDER="
    t_all_worker_tasks_lost
    t_bad_yaml_refused_before_launch
    t_deap_tutorial_two_nodes
    t_workers_are_the_drivers_twins_two_nodes
    t_drain_a_joining_job
    t_export_none
    t_heterogeneous_step
    t_job_array_elements_keep_their_results
    t_join_from_another_job
    t_keys_by_role_in_a_step
    t_kill_worker_task_no_kill
    t_literal_command_two_nodes
    t_modules_reach_every_task
    t_module_libraries_do_not_replace_evo_farms
    t_modules_under_export_none
    t_nested_srun_is_not_a_farm
    t_no_file_python_driver
    t_option_in_help
    t_option_twice_last_wins
    t_preempted_job_resumes
    t_python_driver_requeue_recipe
    t_requeued_job_resumes
    t_salloc_interactive_step
    t_sbatch_example
    t_scancel_signals_reach_the_driver
    t_short_step_many_tasks_ends
    t_srun_example_every_mpi_choice
    t_srun_example_two_nodes
    t_status_forgets_a_killed_step
    t_status_from_login_node
    t_status_of_a_python_step
    t_step_without_wire_up_refused
    t_strangers_refused_in_a_step
    t_time_limit_leaves_a_checkpoint
    t_two_farm_steps_in_one_job
    t_venv_reaches_every_task
    t_venv_out_of_the_users_reach_refused
    t_results_and_journal_of_another_user_refused
    t_keys_hidden_from_other_users
    t_user_errors_leave_nodes_idle
    t_low_open_files_limit_raised
    t_local_farm_counts_the_tasks_cpus
    t_rank0_gets_the_cpus_its_component_asks
    t_evaluator_overrunning_memory_fails_alone
    t_evaluators_children_end_with_the_step
    t_kill_whole_node_no_kill
"

status=0
start_cluster loopback || exit 1
# The wire-up the plugin picks on this Slurm: PMIx where it has the plugin.
AUTO_MPI=pmi2
srun --mpi=list 2>&1 | grep -qw pmix && AUTO_MPI=pmix
echo "slurm: $(srun --version), the plugin's wire-up: $AUTO_MPI, $(grep -E '^(ProctrackType|TaskPlugin)=' "$SLURM_CONF" | tr '\n' ' ')"
run_tests "slurm (loopback)"
[ $? = 0 ] || status=1
./cluster.sh stop "$CLUSTER" > /dev/null 2>&1
# The other process trackers a site may run (proctrack/linuxproc and
# proctrack/pgid, task/none): what evaluators start must end with the step
# there too (test_node.sh).
for tracker in linuxproc pgid; do
    printf '%s\n' "t_evaluators_children_end_$tracker" | grep -qE -- "${TESTS:-.}" || continue
    unset -f $(declare -F | awk '{print $3}' | grep '^t_')
    eval "t_evaluators_children_end_$tracker() { evaluators_children_end; }"
    CGROUPS=0 PROCTRACK=proctrack/$tracker start_cluster loopback || exit 1
    TEST_ORDER="t_evaluators_children_end_$tracker" run_tests "slurm ($tracker)"
    [ $? = 0 ] || status=1
    ./cluster.sh stop "$CLUSTER" > /dev/null 2>&1
done
NETNS_TESTS="t_srun_example_netns t_status_from_login_node_netns t_bound_address_alone_published_netns
    t_site_bind_netns t_named_networks_by_preference_netns"
if ! printf '%s\n' $NETNS_TESTS | grep -qE -- "${TESTS:-.}"; then
    echo "slurm (netns): not started: TESTS selects none of its tests"
elif unshare --net true 2> /dev/null && command -v ip > /dev/null &&
    ip link add evofprobe0 type bridge 2> /dev/null && ip link del evofprobe0; then
    unset -f $(declare -F | awk '{print $3}' | grep '^t_')
    # node2 reaching a broker in node1's network namespace proves the card
    # carried a routable address (127.0.0.1 there is another machine).
    t_srun_example_netns() { run_example "$SCRATCH/out"; }
    t_status_from_login_node_netns() { status_from_here; }
    # farm.bind naming one interface: rank 0 publishes that address alone
    # (it published every address of the node, bound or not).
    # bound_farm BIND — 600 calls of 1.5 ms (long enough for every worker
    # to join) on both nodes with farm.bind BIND; rank 0's log
    # (EVO_FARM_LOG=info) in $SCRATCH/out, and srun's exit status in RC.
    bound_farm() {
        printf 'farm: {bind: "%s"}\nevaluate: {library: %s, function: slow_sphere}\n' "$1" "$TESTLIB" > "$SCRATCH/bound.yaml"
        RC=0
        (cd "$SCRATCH" && EVO_FARM_LOG=info timeout -k 10 60 srun --evo-farm=bound.yaml -N2 -n3 "$EVO" "$DRIVER" verify slow_sphere 600 3) \
            > "$SCRATCH/out" 2>&1 || RC=$?
    }
    # bound_farm_ran_on ENDPOINT_REGEX WHY — bound_farm's step ran every
    # call right on both nodes and rank 0 published ENDPOINT alone (WHY:
    # what failed when it did not).
    bound_farm_ran_on() {
        [ "$RC" = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $RC"; }
        expect_in "$SCRATCH/out" "600 results, 0 failed, all as expected"
        grep -qE "broker on node1: tcp://$1 \(wire-up" "$SCRATCH/out" || { grep "broker on" "$SCRATCH/out"; fail "$2"; }
        expect_both_nodes "$SCRATCH/out"
    }
    t_bound_address_alone_published_netns() {
        bound_farm "tcp://eth0:*"
        bound_farm_ran_on '10\.201\.0\.11:[0-9]+' "rank 0 did not publish its bound address alone"
    }
    # The site names the networks by preference and the ports (the
    # plugin's bind=, below): rank 0 binds ib0's address (the network
    # named first) and a port of the range, and publishes that.
    t_site_bind_netns() {
        local rc=0
        (cd "$SCRATCH" && EVO_FARM_LOG=info timeout -k 10 60 srun --evo-farm="$EXAMPLE" -N2 -n3 "$EVO") > "$SCRATCH/out" 2>&1 || rc=$?
        [ "$rc" = 0 ] || { tail "$SCRATCH/out"; fail "srun exited $rc"; }
        grep -qE "broker on node1: tcp://10\.202\.0\.11:410[0-9][0-9] \(wire-up" "$SCRATCH/out" ||
            { grep "broker on" "$SCRATCH/out"; fail "rank 0 did not bind the site's network and ports"; }
        expect_both_nodes "$SCRATCH/out"
    }
    # A job's list by preference: a network rank 0's node lacks is passed
    # over for the next (interface names and networks alike); none of
    # them there is one line naming them, and the step ends.
    t_named_networks_by_preference_netns() {
        bound_farm "tcp://hfi0,10.99.0.0/16,10.201.0.0/24,ib0:*"
        bound_farm_ran_on '10\.201\.0\.11:[0-9]+' "rank 0 did not bind the first network its node has"
        bound_farm "tcp://hfi0,10.99.0.0/16:*"
        [ "$RC" != 0 ] && [ "$RC" != 124 ] || { tail "$SCRATCH/out"; fail "srun exited $RC with no network of the list on the node"; }
        expect_in "$SCRATCH/out" "none of the networks hfi0,10.99.0.0/16 is on this node (it has lo 127.0.0.1, "
        expect_in "$SCRATCH/out" "ib0 10.202.0.11"
    }
    # shellcheck disable=SC2034 # read by run_tests (../integration/lib.sh)
    TEST_ORDER=$NETNS_TESTS
    export PLUGIN_ARGS="evo_farm=$EVO bind=tcp://10.202.0.0/24,eth0:41000-41099"
    start_cluster netns || exit 1
    run_tests "slurm (netns)"
    [ $? = 0 ] || status=1
else
    echo "slurm (netns): SKIPPED: this machine cannot create network namespaces"
fi
exit $status
