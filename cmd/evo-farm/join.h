/* join.h — `evo-farm join FARM|FILE [-n N]`: N workers on this machine join
 * a running farm, with the join credential the farm keeps beside its record
 * (~/.evo-farm/farms/ID.join: endpoints, keys and the farm's resolved
 * configuration, so the workers get its evaluator and environment). They
 * leave when the farm ends (BYE), or when this command is stopped (Ctrl-C,
 * SIGTERM): each says BYE and what it held is requeued. */
#ifndef EVO_JOIN_H
#define EVO_JOIN_H

/* argv[0] is "join"; self is the evo-farm binary. Exit status 0, 1 (a
 * worker failed), 2 (bad arguments, no such farm, a bad credential). */
int evo_join_main(int argc, char **argv, const char *self);

#endif
