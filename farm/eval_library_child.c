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

#include "clock.h"
#include "evaluator.h"
#include "evofarm/evaluator.h"

struct child {
    evo_evaluate_fn *evaluate;
    evo_evaluator_error_fn *error;
    char setup_error[512]; /* non-empty: answer every candidate with it */
    int out;
    char *obuf;
    size_t olen;
    int64_t last_flush_ns;
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush(struct child *c)
{
    int rc = write_all(c->out, c->obuf, c->olen);
    c->olen = 0;
    c->last_flush_ns = evo_now_ns();
    return rc;
}

static void answer_error(struct child *c, const char *text)
{
    uint16_t n = (uint16_t)strnlen(text, 1000);
    c->obuf[c->olen++] = 1;
    memcpy(c->obuf + c->olen, &n, 2);
    memcpy(c->obuf + c->olen + 2, text, n);
    c->olen += 2u + n;
}

static void evaluate_one(struct child *c, const double *x, uint32_t dim)
{
    double objectives[EVO_EVALUATOR_MAX_OBJECTIVES];
    char text[1100];
    if (c->setup_error[0]) {
        answer_error(c, c->setup_error);
        return;
    }
    int n = c->evaluate(x, dim, objectives, EVO_EVALUATOR_MAX_OBJECTIVES);
    if (n <= 0 || n > EVO_EVALUATOR_MAX_OBJECTIVES) {
        const char *detail = c->error ? c->error() : NULL;
        snprintf(text, sizeof text, "library function returned %d%s%.1000s", n, detail ? ": " : "",
                 detail ? detail : "");
        answer_error(c, text);
        return;
    }
    c->obuf[c->olen++] = 0;
    c->obuf[c->olen++] = (char)n;
    memcpy(c->obuf + c->olen, objectives, (size_t)n * sizeof(double));
    c->olen += (size_t)n * sizeof(double);
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
    if (c.out < 0 || dup2(2, 1) < 0 || (c.obuf = malloc(1 << 17)) == NULL)
        return 1;
    setup(&c, library, function);
    for (;;) {
        int got = read_exact(stdin, &dim, sizeof dim);
        if (got != 0 || dim == 0 || dim > 65536) {
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
        evaluate_one(&c, x, dim);
        /* Answer promptly for slow functions, in bulk for fast ones, and
         * always before waiting for more input. */
        int more = stdin->_IO_read_ptr < stdin->_IO_read_end;
        if ((!more || c.olen > (1 << 16) || evo_now_ns() - c.last_flush_ns > 1000000) && flush(&c) < 0)
            break;
    }
    flush(&c);
    free(x);
    free(c.obuf);
    return rc;
}
