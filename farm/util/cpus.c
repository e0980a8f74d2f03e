/* cpus.c — the CPUs this process may use (see cpus.h). */
#include "cpus.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

unsigned evo_cpus_of_quota(long long quota_us, long long period_us)
{
    if (quota_us <= 0 || period_us <= 0)
        return 0;
    return (unsigned)((quota_us + period_us - 1) / period_us);
}

/* The CPUs of the affinity mask; the online count where it cannot be read. */
static unsigned affinity_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return (unsigned)CPU_COUNT(&set);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    return online > 0 ? (unsigned)online : 1;
}

/* This process's cgroup in the hierarchy whose /proc/self/cgroup line
 * names controller ("" for the unified one, "0::PATH"), into path. 0, or
 * -1 when it has none. */
static int own_cgroup(const char *controller, char *path, size_t size)
{
    char line[4096];
    int found = -1;
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (f == NULL)
        return -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char *names = strchr(line, ':'), *rest = names ? strchr(names + 1, ':') : NULL;
        if (rest == NULL)
            continue;
        *rest++ = '\0';
        rest[strcspn(rest, "\n")] = '\0';
        names++;
        int match = controller[0] == '\0' ? names[0] == '\0' : 0;
        for (char *save = NULL, *c = controller[0] ? strtok_r(names, ",", &save) : NULL; c && !match;
             c = strtok_r(NULL, ",", &save))
            match = strcmp(c, controller) == 0;
        if (match && snprintf(path, size, "%s", rest) < (int)size)
            found = 0;
    }
    fclose(f);
    return found;
}

/* The quota of this process's cgroup in whole CPUs, 0 where none is set
 * (or none can be read): v2's cpu.max "QUOTA PERIOD", else v1's
 * cpu.cfs_quota_us and cpu.cfs_period_us. Only the process's own cgroup is
 * read, not its ancestors': Slurm and container runtimes set the quota on
 * the leaf or the step. */
static unsigned quota_count(void)
{
    char cg[3072], file[4096];
    long long quota = 0, period = 0;
    FILE *f;
    if (own_cgroup("", cg, sizeof cg) == 0) {
        snprintf(file, sizeof file, "/sys/fs/cgroup%s/cpu.max", cg);
        if ((f = fopen(file, "re")) != NULL) {
            if (fscanf(f, "%lld %lld", &quota, &period) != 2)
                quota = 0; /* "max PERIOD": no quota */
            fclose(f);
            return evo_cpus_of_quota(quota, period);
        }
    }
    if (own_cgroup("cpu", cg, sizeof cg) < 0)
        return 0;
    static const char *const mounts[] = {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"};
    for (size_t i = 0; i < sizeof mounts / sizeof mounts[0]; i++) {
        snprintf(file, sizeof file, "%s%s/cpu.cfs_quota_us", mounts[i], cg);
        if ((f = fopen(file, "re")) == NULL)
            continue;
        int ok = fscanf(f, "%lld", &quota) == 1;
        fclose(f);
        snprintf(file, sizeof file, "%s%s/cpu.cfs_period_us", mounts[i], cg);
        if (!ok || (f = fopen(file, "re")) == NULL)
            return 0;
        ok = fscanf(f, "%lld", &period) == 1;
        fclose(f);
        return ok ? evo_cpus_of_quota(quota, period) : 0;
    }
    return 0;
}

unsigned evo_cpus_usable(void)
{
    unsigned cpus = affinity_count(), quota = quota_count();
    return quota > 0 && quota < cpus ? quota : cpus;
}
