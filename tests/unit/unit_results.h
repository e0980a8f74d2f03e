/* unit_results.h — a whole RESULTS or DONE body decoded into an array, for
 * assertions (the runtime reads items one at a time, in place:
 * evo_proto_results_open/next). Texts are NUL-terminated copies. */
#ifndef EVO_UNIT_RESULTS_H
#define EVO_UNIT_RESULTS_H

#include <stdlib.h>
#include <string.h>

#include "wire/proto.h"

struct unit_results {
    uint64_t elapsed_ns;
    size_t count;
    struct evo_result_item *items; /* item.text: a NUL-terminated copy */
};

static inline void unit_results_free(struct unit_results *l)
{
    for (size_t i = 0; l->items && i < l->count; i++)
        free((char *)l->items[i].text);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* 0, or -1 if malformed (nothing to free). */
static inline int unit_get_results(const void *data, size_t size, int with_elapsed,
                                   enum evo_result_status allowed_error, struct unit_results *l)
{
    struct evo_results_reader it;
    memset(l, 0, sizeof *l);
    if (evo_proto_results_open(data, size, with_elapsed, allowed_error, &it) < 0)
        return -1;
    l->elapsed_ns = it.elapsed_ns;
    if ((l->items = calloc(it.count, sizeof *l->items)) == NULL)
        return -1;
    while (evo_proto_results_next(&it, &l->items[l->count])) {
        struct evo_result_item *item = &l->items[l->count++];
        if (item->text) {
            char *text = malloc((size_t)item->text_size + 1);
            if (text == NULL) {
                unit_results_free(l);
                return -1;
            }
            memcpy(text, item->text, item->text_size);
            text[item->text_size] = '\0';
            item->text = text;
        }
    }
    return 0;
}

#endif
