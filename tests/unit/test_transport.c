/* test_transport.c — the broker's bind (wire/transport.h): a port range
 * takes its first free port; a range with every port taken is refused in
 * one line naming it. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "wire/transport.h"

static unsigned port_of(const char *endpoint)
{
    const char *colon = strrchr(endpoint, ':');
    return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

static void a_port_range_takes_its_first_free_port(void **state)
{
    (void)state;
    struct evo_credentials creds, taken;
    char err[512], range[64];
    void *context = zmq_ctx_new();
    assert_int_equal(evo_credentials_generate(&creds), 0);
    assert_int_equal(evo_credentials_generate(&taken), 0);
    /* a port the kernel gives, then held, so the range starts on a busy one */
    void *first = evo_socket_bind_router(context, "tcp://127.0.0.1:*", &taken, err, sizeof err);
    assert_non_null(first);
    unsigned busy = port_of(taken.endpoint);
    if (busy >= 65535)
        skip();
    snprintf(range, sizeof range, "tcp://127.0.0.1:%u-%u", busy, busy + 1);
    void *second = evo_socket_bind_router(context, range, &creds, err, sizeof err);
    if (second == NULL && strstr(err, "in use")) /* busy + 1 taken by another process of the machine */
        skip();
    assert_non_null(second);
    assert_int_equal(port_of(creds.endpoint), busy + 1);
    /* every port of the range taken */
    snprintf(range, sizeof range, "tcp://127.0.0.1:%u-%u", busy, busy + 1);
    assert_null(evo_socket_bind_router(context, range, &creds, err, sizeof err));
    assert_non_null(strstr(err, "every port from"));
    assert_null(strchr(err, '\n'));
    zmq_close(first);
    zmq_close(second);
    zmq_ctx_term(context);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(a_port_range_takes_its_first_free_port)};
    return EVO_RUN_TESTS(tests);
}
