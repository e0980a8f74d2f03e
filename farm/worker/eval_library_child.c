/* eval_library_child.c — the process that runs a `library` evaluator
 * (`evo-farm __evaluate-library LIB FUNCTION`): dlopen, optional init, then
 * read binary candidates from stdin and write binary answers (eval_codec.h).
 * Its own stdout is moved aside so the library's prints cannot corrupt the
 * answers; they go to stderr instead. */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval_codec.h"
#include "evaluator.h"
#include "evofarm/evaluator.h"
#include "util/clock.h"
#include "util/io.h"
#include "util/names.h"
#include "util/trace.h"

struct child {
    evo_evaluate_fn *evaluate;
    evo_evaluator_error_fn *error;
    evo_evaluator_finalize_fn *finalize;
    char setup_error[512]; /* non-empty: answer every candidate with it */
    int out;
    struct evo_buf answers; /* encoded, not yet written */
    int64_t last_flush_ns;
};

static int flush(struct child *c)
{
    EVO_TRACE("child.answer");
    int rc = c->answers.failed ? -1 : evo_write_all(c->out, c->answers.data, c->answers.len);
    evo_buf_reset(&c->answers);
    c->last_flush_ns = evo_now_ns();
    return rc;
}

static void evaluate_one(struct child *c, const double *x, uint32_t dim)
{
    double objectives[EVO_MAX_OBJECTIVES];
    char text[1100];
    if (c->setup_error[0]) {
        evo_codec_put_binary_error(&c->answers, c->setup_error);
        return;
    }
    int n = c->evaluate(x, dim, objectives, EVO_MAX_OBJECTIVES);
    if (n <= 0 || n > EVO_MAX_OBJECTIVES) {
        const char *detail = c->error ? c->error() : NULL;
        snprintf(text, sizeof text, "library function returned %d%s%.1000s", n, detail ? ": " : "",
                 detail ? detail : "");
        evo_codec_put_binary_error(&c->answers, text);
        return;
    }
    evo_codec_put_binary_objectives(&c->answers, (unsigned)n, objectives);
}

static void setup(struct child *c, const char *library, const char *function)
{
    char name[300];
    void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(c->setup_error, sizeof c->setup_error, "cannot load library: %s", dlerror());
        return;
    }
    c->evaluate = (evo_evaluate_fn *)dlsym(handle, function);
    if (c->evaluate == NULL) {
        snprintf(c->setup_error, sizeof c->setup_error, "%s has no function '%s'", library, function);
        return;
    }
    snprintf(name, sizeof name, "%s_error", function);
    c->error = (evo_evaluator_error_fn *)dlsym(handle, name);
    snprintf(name, sizeof name, "%s_finalize", function);
    c->finalize = (evo_evaluator_finalize_fn *)dlsym(handle, name);
    snprintf(name, sizeof name, "%s_init", function);
    evo_evaluator_init_fn *init = (evo_evaluator_init_fn *)dlsym(handle, name);
    if (init && init() != 0)
        snprintf(c->setup_error, sizeof c->setup_error, "%s() failed%s%.300s", name, c->error ? ": " : "",
                 c->error && c->error() ? c->error() : "");
}

/* Reads exactly n bytes; 1 on clean EOF at the start, -1 on error. */
static int read_exact(FILE *in, void *p, size_t n)
{
    size_t got = fread(p, 1, n, in);
    if (got == n)
        return 0;
    return got == 0 && feof(in) ? 1 : -1;
}

int evo_library_child_main(const char *library, const char *function)
{
    struct child c = {.out = dup(1)};
    double *x = NULL;
    uint32_t dim, cap = 0;
    int rc = 0;
    /* Answers go to the saved descriptor; the library's stdout to stderr. */
    if (c.out < 0 || dup2(2, 1) < 0)
        return 1;
    setup(&c, library, function);
    for (;;) {
        int got = read_exact(stdin, &dim, sizeof dim);
        if (got != 0 || dim == 0 || dim > EVO_MAX_DIMENSION) {
            rc = got == 1 ? 0 : 1;
            break;
        }
        if (dim > cap) {
            free(x);
            cap = dim;
            if ((x = malloc(cap * sizeof *x)) == NULL)
                return 1;
        }
        if (read_exact(stdin, x, dim * sizeof *x) != 0) {
            rc = 1;
            break;
        }
        EVO_TRACE("child.read");
        evaluate_one(&c, x, dim);
        /* Answer promptly for slow functions, in bulk for fast ones, and
         * always before waiting for more input. */
        int more = stdin->_IO_read_ptr < stdin->_IO_read_end;
        if ((!more || c.answers.len > (1 << 16) || evo_now_ns() - c.last_flush_ns > 1000000) && flush(&c) < 0)
            break;
    }
    flush(&c);
    if (rc == 0 && c.finalize && !c.setup_error[0]) /* a normal end: the worker closed our input */
        c.finalize();
    free(x);
    evo_buf_free(&c.answers);
    return rc;
}
