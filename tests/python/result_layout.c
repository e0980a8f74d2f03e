/* result_layout.c — prints struct evo_result's C layout, one "name offset
 * size" line per field and "sizeof N" last, so tests/python can check the
 * ctypes mirror in python/evofarm/_client.py against the compiler's view. */
#include <stddef.h>
#include <stdio.h>

#include "evofarm/client.h"

#define FIELD(name)                                                                                                    \
    printf(#name " %zu %zu\n", offsetof(struct evo_result, name), sizeof(((struct evo_result *)0)->name))

int main(void)
{
    FIELD(tag);
    FIELD(ok);
    FIELD(n);
    FIELD(objectives);
    FIELD(error);
    FIELD(payload);
    FIELD(payload_size);
    printf("sizeof %zu\n", sizeof(struct evo_result));
    printf("max_objectives %d\n", EVO_EVALUATOR_MAX_OBJECTIVES);
    return 0;
}
