/* drain.c — `evo-farm drain`; see drain.h. Phases: the farms (every
 * record, or the one named), for each a connection with its control key,
 * DRAIN, its DRAINED count, a line said. */
#include "drain.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reach.h"
#include "registry/registry.h"
#include "util/clock.h"
#include "util/names.h"
#include "wire/dealer.h"

#define DRAIN_WAIT_MS 3000 /* for the broker's WELCOME, then for its DRAINED */

/* The next message of `type` from the broker within wait_ms (heartbeats
 * skipped), its body copied into body. 0, or -1. */
static int await(struct evo_dealer *d, enum evo_msg_type type, struct evo_buf *body, int wait_ms)
{
    int64_t deadline = evo_now_ms() + wait_ms;
    while (evo_now_ms() < deadline) {
        zmq_pollitem_t item = evo_dealer_pollitem(d);
        zmq_poll(&item, 1, 50);
        struct evo_message m;
        int rc;
        while ((rc = evo_dealer_recv(d, &m)) >= 0) {
            int got = rc == 0 && !evo_dealer_take(d, &m) && (int)m.type == (int)type;
            if (got && body) {
                size_t size;
                const void *data = evo_message_body(&m, &size);
                evo_buf_reset(body);
                evo_buf_put(body, data, size);
            }
            int welcome = rc == 0 && type == EVO_MSG_WELCOME && d->welcomed;
            evo_message_close(&m);
            if (got || welcome)
                return 0;
        }
    }
    return -1;
}

/* Drains `selector` in the farm behind record a: how many workers it
 * concerned into *count. 0, or -1 with err. */
static int drain_farm(const struct evo_access *a, const char *selector, uint32_t *count, char *err, size_t err_size)
{
    struct evo_credentials creds = {0};
    struct evo_dealer d = {.heartbeat_ms = 1000, .liveness = 3};
    struct evo_buf buf = {0};
    struct evo_reach r;
    const char *ep;
    int rc = -1;
    void *context = zmq_ctx_new();
    if (a->control_public[0] == '\0' || context == NULL) {
        snprintf(err, err_size, "its record has no control key (an older evo-farm?)");
        goto out;
    }
    snprintf(creds.server_public, sizeof creds.server_public, "%.40s", a->server);
    snprintf(creds.client_public, sizeof creds.client_public, "%.40s", a->control_public);
    snprintf(creds.client_secret, sizeof creds.client_secret, "%.40s", a->control_secret);
    evo_reach_start(&r, a);
    while (!d.welcomed && (ep = evo_reach_next(&r)) != NULL) {
        snprintf(err, err_size, "its broker did not answer at %s (ended?)", ep);
        snprintf(creds.endpoint, sizeof creds.endpoint, "%s", ep);
        if (evo_dealer_join(&d, context, &creds, EVO_PEER_DRIVER, &buf, err, err_size) == 0)
            await(&d, EVO_MSG_WELCOME, NULL, DRAIN_WAIT_MS);
    }
    if (!d.welcomed) {
        evo_reach_failed(&r, err, err_size);
        goto out;
    }
    evo_buf_reset(&buf);
    evo_proto_put_drain(&buf, selector);
    if (evo_dealer_send(&d, EVO_MSG_DRAIN, &buf) < 0 || await(&d, EVO_MSG_DRAINED, &buf, DRAIN_WAIT_MS) < 0 ||
        evo_proto_get_drained(buf.data, buf.len, count) < 0)
        snprintf(err, err_size, "its broker did not answer the drain (is it an older evo-farm?)");
    else
        rc = 0;
out:
    evo_dealer_leave(&d, d.welcomed);
    evo_buf_free(&buf);
    if (context)
        zmq_ctx_term(context);
    explicit_bzero(&creds, sizeof creds);
    return rc;
}

/* Drains the farm of the record at path; adds to *total. 1 if it
 * answered, 0 if not (said why) or it has ended. */
static int drain_record(const char *path, const char *selector, unsigned *total)
{
    char err[EVO_ERROR_MAX];
    struct evo_access a;
    uint32_t count = 0;
    if (evo_farm_record_load(path, &a, err, sizeof err) != EVO_RECORD_RUNNING)
        return 0;
    if (drain_farm(&a, selector, &count, err, sizeof err) < 0) {
        fprintf(stderr, "evo-farm drain: farm %s: %s\n", a.id, err);
        return 0;
    }
    printf("farm %s: %u worker%s of %s draining (each leaves once it has returned what it holds)\n", a.id, count,
           count == 1 ? "" : "s", selector);
    *total += count;
    explicit_bzero(&a, sizeof a);
    return 1;
}

int evo_drain_main(int argc, char **argv)
{
    const char *selector = NULL, *farm = NULL;
    char path[EVO_PATH_MAX];
    unsigned total = 0, answered = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--farm") == 0 && i + 1 < argc)
            farm = argv[++i];
        else if (argv[i][0] == '-' || selector)
            return fprintf(stderr, "evo-farm: drain JOBID[.STEP]|HOST [--farm FARM]: unexpected '%s'\n", argv[i]), 2;
        else
            selector = argv[i];
    }
    if (selector == NULL || selector[0] == '\0' || strlen(selector) > EVO_PROTO_MAX_HOST ||
        selector[strcspn(selector, " \t\n")] != '\0') {
        fprintf(stderr, "evo-farm: drain needs the workers to drain: a Slurm JOBID[.STEP] or a HOST\n");
        return 2;
    }
    char **paths = NULL;
    size_t n = 0;
    if (farm && evo_farm_record_find(farm, path, sizeof path) < 0) {
        fprintf(stderr, "evo-farm: drain: no running farm '%s' (evo-farm status lists them)\n", farm);
        return 2;
    }
    if (farm == NULL && evo_farm_records_list(&paths, &n, SIZE_MAX) < 0) {
        fprintf(stderr, "evo-farm: drain: no HOME, so no farm records\n");
        return 2;
    }
    if (farm)
        answered += drain_record(path, selector, &total);
    for (size_t i = 0; i < n; i++)
        answered += drain_record(paths[i], selector, &total);
    evo_farm_records_free(paths, n);
    if (total == 0) {
        if (farm && !answered) /* its own line said why */
            return 1;
        fprintf(stderr, "evo-farm: drain: no worker of %s in %s (evo-farm status lists them)%s\n", selector,
                farm ? "that farm" : "any running farm of yours",
                answered ? "; any that joins later is sent away" : "");
        return 1;
    }
    return 0;
}
