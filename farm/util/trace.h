/* trace.h — timestamps along the hot path, for the latency budget of
 * docs/performance.md (bench/latency_budget.sh). Off unless
 * EVO_FARM_TRACE=PREFIX is set when a process starts: then each process
 * keeps its first EVO_TRACE_MAX events in memory and writes them at exit to
 * PREFIX.PID, one "POINT NANOSECONDS" line each (CLOCK_MONOTONIC, so the
 * files of one machine's processes compare). Off, a point costs one
 * predictable branch. */
#ifndef EVO_TRACE_H
#define EVO_TRACE_H

#define EVO_TRACE_MAX 65536

extern int evo_trace_on;

/* Reads EVO_FARM_TRACE once; call early in main. */
void evo_trace_init(void);
/* Records one event; `point` must be a string literal. */
void evo_trace_record(const char *point);

#define EVO_TRACE(point)                                                                                               \
    do {                                                                                                               \
        if (__builtin_expect(evo_trace_on, 0))                                                                         \
            evo_trace_record(point);                                                                                   \
    } while (0)

#endif
