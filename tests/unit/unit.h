/* unit.h — what every cmocka file of tests/unit shares: the includes cmocka
 * needs and a runner that honours TEST=NAME (`make unit-check TEST=name`
 * runs only the cases whose name matches; cmocka's * and ? wildcards work). */
#ifndef EVO_UNIT_H
#define EVO_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#define EVO_RUN_TESTS(tests)                                                                                           \
    (getenv("TEST") && getenv("TEST")[0] ? cmocka_set_test_filter(getenv("TEST")) : (void)0,                           \
     cmocka_run_group_tests(tests, NULL, NULL))

#endif
