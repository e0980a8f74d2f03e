/* worker.h — one farm worker: joins the broker, takes batches, runs them
 * through its supervised evaluator, sends the results back; heartbeats both
 * ways and reconnects (with back-off) when the broker goes silent. */
#ifndef EVO_WORKER_H
#define EVO_WORKER_H

#include "config/config.h"
#include "wire/transport.h"

/* Runs until the broker says BYE (returns 0) or cannot be reached for
 * EVO_FARM_GIVE_UP seconds (default 60; returns 1). `self` is the path of
 * the evo-farm executable. */
int evo_worker_main(const struct evo_config *config, const struct evo_credentials *creds, const char *self);

#endif
