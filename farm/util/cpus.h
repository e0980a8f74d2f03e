/* cpus.h — how many CPUs this process may really use: the CPUs of its
 * affinity mask (a Slurm step's task/affinity binding, a cpuset, taskset),
 * fewer still where its cgroup gives it a CPU quota (cgroup v2 cpu.max,
 * v1 cpu.cfs_quota_us). Never the machine's count: inside `srun -c4` on a
 * 128-core node a farm starts 4 workers, not 128. */
#ifndef EVO_CPUS_H
#define EVO_CPUS_H

/* The CPUs this process may use, at least 1. */
unsigned evo_cpus_usable(void);

/* The whole CPUs a quota of quota_us per period_us allows, rounded up;
 * 0 where it sets no bound (quota <= 0, period <= 0). Pure. */
unsigned evo_cpus_of_quota(long long quota_us, long long period_us);

#endif
