/* evaluator.c — runs and supervises an evaluator child over two pipes (see
 * evaluator.h). One batch at a time: candidates are written ahead into the
 * child's stdin while answers are read from its stdout; the candidate at the
 * head of the line has `timeout` to be answered. */
#include "evaluator.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "eval_codec.h"
#include "forkserver.h"
#include "util/fds.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/names.h"
#include "util/trace.h"

#define WRITE_AHEAD 65536 /* bytes of candidates queued beyond the answered ones */

struct evo_evaluator {
    char **argv; /* owned strings */
    char *workdir;
    enum evo_codec codec;
    unsigned objectives;
    unsigned timeout_ms;
    unsigned startup_ms; /* added to the first deadline of a fresh child */
    int fresh;           /* started, not answered yet */
    pid_t pid;           /* 0 = not running */
    int fork;            /* python: asks the node's fork server for its children (forkserver.h) */
    int forked;          /* the child running came from the fork server: it says when the child ends */
    struct evo_forkserver server;
    int in_fd;  /* child's stdin */
    int out_fd; /* child's stdout */
    char start_error[256];
    struct evo_buf pending; /* encoded, not yet written */
    size_t pending_at;
    char *rbuf;
    size_t rlen, rcap;
    void (*on_blocked)(void *arg, int blocked);
    void *blocked_arg;
    int blocked; /* the call in progress said it waits on other tasks */
};

void evo_evaluator_on_blocked(struct evo_evaluator *ev, void (*fn)(void *arg, int blocked), void *arg)
{
    ev->on_blocked = fn;
    ev->blocked_arg = arg;
}

static void set_blocked(struct evo_evaluator *ev, int blocked)
{
    if (ev->blocked == blocked)
        return;
    ev->blocked = blocked;
    if (ev->on_blocked)
        ev->on_blocked(ev->blocked_arg, blocked);
}

struct evo_evaluator *evo_evaluator_create(const struct evo_config *c, const char *self)
{
    struct evo_evaluator *ev = calloc(1, sizeof *ev);
    size_t argc = 0;
    if (ev == NULL)
        return NULL;
    ev->objectives = c->evaluate.objectives;
    ev->timeout_ms = c->farm.timeout_ms;
    ev->startup_ms = c->evaluate.startup_timeout_ms;
    ev->in_fd = ev->out_fd = -1;
    ev->server.fd = -1;
    ev->fork = c->evaluate.kind == EVO_EVALUATOR_PYTHON && !c->evaluate.spawn;
    if (c->evaluate.kind == EVO_EVALUATOR_LIBRARY) {
        const char *args[] = {self, "__evaluate-library", c->evaluate.library, c->evaluate.function};
        ev->codec = EVO_CODEC_BINARY;
        argc = 4;
        ev->argv = calloc(argc + 1, sizeof *ev->argv);
        for (size_t i = 0; ev->argv && i < argc; i++)
            ev->argv[i] = strdup(args[i]);
    } else {
        while (c->evaluate.command[argc])
            argc++;
        ev->codec = c->evaluate.kind == EVO_EVALUATOR_PYTHON ? EVO_CODEC_FRAMES : EVO_CODEC_TEXT;
        ev->argv = calloc(argc + 1, sizeof *ev->argv);
        for (size_t i = 0; ev->argv && i < argc; i++)
            ev->argv[i] = strdup(c->evaluate.command[i]);
    }
    if (ev->codec == EVO_CODEC_TEXT)
        setenv("PYTHONUNBUFFERED", "1", 0); /* a Python evaluator that forgets to flush would stall */
    ev->workdir = c->evaluate.workdir ? strdup(c->evaluate.workdir) : NULL;
    for (size_t i = 0; ev->argv && i < argc; i++)
        if (ev->argv[i] == NULL)
            goto error;
    if (ev->argv == NULL || (c->evaluate.workdir && ev->workdir == NULL))
        goto error;
    return ev;
error:
    evo_evaluator_destroy(ev);
    errno = ENOMEM;
    return NULL;
}

/* Makes this process, and what it starts, the kernel's first choice when
 * memory runs out (a step's --mem under ConstrainRAMSpace, the machine's):
 * an evaluator that overruns costs one attempt of one candidate, never
 * the broker and the farm with it. Raising one's own oom_score_adj needs
 * no privilege. Async-signal-safe; a kernel without the file is left as
 * it is. */
static void oom_first(void)
{
    static const char most[] = "1000";
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t written = write(fd, most, sizeof most - 1); /* refused: the worker's score stays */
    (void)written;
    close(fd);
}

/* What an evaluator, or the fork server its evaluators come from, is
 * given before exec: only async-signal-safe calls. */
static void child_prepare(void *arg)
{
    (void)arg;
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(SIGPIPE, &dfl, NULL); /* the worker ignores it; an ignored signal would stay ignored across exec */
    evo_limits_restore();           /* the open-files limit the task was given (util/limits.h) */
    oom_first();
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child_exec(struct evo_evaluator *ev, int in_fd, int out_fd, int report_fd)
{
    int err;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0); /* so a timeout kills the evaluator's own children too */
    child_prepare(ev);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0)
        goto fail;
    evo_fds_close_from(3, 1); /* the report pipe stays until exec: nothing else of the worker's goes with it */
    if (ev->workdir && chdir(ev->workdir) < 0) /* NULL: the worker's own directory */
        goto fail;
    execvp(ev->argv[0], ev->argv);
fail:
    err = errno;
    if (write(report_fd, &err, sizeof err) < 0)
        _exit(127);
    _exit(127);
}

/* A child just started, with our ends of its stdin and stdout: the one
 * this evaluator runs now. */
static void adopt_child(struct evo_evaluator *ev, pid_t pid, int in_fd, int out_fd)
{
    fcntl(in_fd, F_SETFL, O_NONBLOCK);
    fcntl(out_fd, F_SETFL, O_NONBLOCK);
    ev->pid = pid;
    ev->in_fd = in_fd;
    ev->out_fd = out_fd;
    ev->rlen = 0;
    ev->fresh = 1;
}

/* The fork server's prepare: the evaluator's, and its directory. */
static void server_prepare(void *arg)
{
    struct evo_evaluator *ev = arg;
    child_prepare(ev);
    if (ev->workdir && chdir(ev->workdir) < 0)
        _exit(127);
}

/* Connects to the node's fork server, starting it if need be (a no-op
 * when connected). 0, or -1 with err. */
static int connect_server(struct evo_evaluator *ev, char *err, size_t err_size)
{
    const char *dir = getenv(EVO_VAR_SHARED_DIR);
    char *server[] = {ev->argv[0], "-u", "-m", "evofarm._forkserver", NULL};
    if (ev->server.fd >= 0)
        return 0;
    if (dir == NULL) {
        snprintf(err, err_size, "no fork server: no directory of the farm on this node");
        return -1;
    }
    return evo_forkserver_connect(&ev->server, dir, server, server_prepare, ev, (int)ev->startup_ms, err, err_size);
}

/* A child from the node's fork server (connecting to it, or starting it,
 * first). 0, or -1 with ev->fork cleared when there is no server to be
 * had: every later child is then started afresh, and this is said once. */
static int start_forked(struct evo_evaluator *ev)
{
    char err[256] = "";
    for (int attempt = 0; attempt < 2; attempt++) { /* a server gone since: one more, started anew */
        int in[2], out[2];
        if (connect_server(ev, err, sizeof err) < 0)
            break;
        if (pipe2(in, O_CLOEXEC) < 0) {
            snprintf(err, sizeof err, "pipe: %s", strerror(errno));
            break;
        }
        if (pipe2(out, O_CLOEXEC) < 0) {
            snprintf(err, sizeof err, "pipe: %s", strerror(errno));
            close(in[0]);
            close(in[1]);
            break;
        }
        pid_t pid = evo_forkserver_spawn(&ev->server, in[0], out[1], err, sizeof err);
        close(in[0]);
        close(out[1]);
        if (pid < 0) {
            close(in[1]);
            close(out[0]);
            continue;
        }
        ev->forked = 1;
        adopt_child(ev, pid, in[1], out[0]);
        evo_debug("evaluator forked by the node's fork server (pid %d)", (int)pid);
        return 0;
    }
    evo_warn("%s: each evaluator starts its own interpreter instead (evaluate: {start: spawn} says so "
             "without trying)",
             err);
    ev->fork = 0;
    return -1;
}

/* Starts the child. 0, or -1 with start_error set. */
static int start_child(struct evo_evaluator *ev)
{
    if (ev->fork && start_forked(ev) == 0)
        return 0;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, report[2] = {-1, -1}, child_errno = 0;
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(report, O_CLOEXEC) < 0)
        goto error;
    pid_t pid = fork();
    if (pid < 0)
        goto error;
    if (pid == 0)
        child_exec(ev, in[0], out[1], report[1]);
    close(in[0]);
    close(out[1]);
    close(report[1]);
    /* The report pipe closes on a successful exec, or carries its errno. */
    ssize_t n;
    while ((n = read(report[0], &child_errno, sizeof child_errno)) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (n == sizeof child_errno) {
        waitpid(pid, NULL, 0);
        close(in[1]);
        close(out[0]);
        snprintf(ev->start_error, sizeof ev->start_error, "cannot start evaluator '%s' in %s: %s", ev->argv[0],
                 ev->workdir ? ev->workdir : "the worker's directory", strerror(child_errno));
        return -1;
    }
    adopt_child(ev, pid, in[1], out[0]);
    evo_debug("evaluator started: %s (pid %d)", ev->argv[0], (int)pid);
    return 0;
error:
    snprintf(ev->start_error, sizeof ev->start_error, "cannot start evaluator: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0)
            close(in[i]);
        if (out[i] >= 0)
            close(out[i]);
        if (report[i] >= 0)
            close(report[i]);
    }
    return -1;
}

/* Whether the child has ended; it stays a zombie (WNOWAIT), so its group
 * id cannot be reused before stop_child has killed the group. */
static int child_ended(const struct evo_evaluator *ev)
{
    if (ev->forked)
        return ev->pid > 0 && evo_forkserver_child_ended(&ev->server);
    siginfo_t info;
    info.si_pid = 0;
    return ev->pid > 0 && waitid(P_PID, (id_t)ev->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == ev->pid;
}

/* stop_child's wait for a child of ours: `grace_ms` for it to exit on its
 * own, then SIGKILL; its wait status in *status. */
static void stop_spawned(struct evo_evaluator *ev, int grace_ms, int *status)
{
    pid_t done = 0;
    for (int waited = 0; waited <= grace_ms; waited += 5) {
        if (child_ended(ev)) {
            done = ev->pid;
            break;
        }
        if (grace_ms)
            usleep(5000);
    }
    /* Whatever the child started goes with it, even when it has ended on
     * its own (its group outlives it while a member lives). */
    kill(-ev->pid, SIGKILL);
    if (done == 0)
        kill(ev->pid, SIGKILL);
    waitpid(ev->pid, status, 0);
}

/* The same for a child of the fork server, which reaps it, kills its
 * group and tells us its status: the pid stays the child's until we have
 * heard (so the SIGKILL reaches no other process). A server gone took
 * the child with it (PR_SET_PDEATHSIG); one that says nothing in 5 s
 * after SIGKILL is left, and kills the child when we close. */
static void stop_forked(struct evo_evaluator *ev, int grace_ms, int *status)
{
    int rc = evo_forkserver_wait(&ev->server, grace_ms, status);
    if (rc < 0) {
        kill(ev->pid, SIGKILL);
        rc = evo_forkserver_wait(&ev->server, 5000, status);
    }
    if (rc < 0)
        evo_forkserver_close(&ev->server);
    if (rc != 0)
        *status = SIGKILL; /* as a wait status: killed by SIGKILL */
    ev->forked = 0;
}

/* Stops the child; describes how it ended in `why` when given. Phases:
 * close its stdin, give it `grace_ms` to exit on its own, then SIGKILL. */
static void stop_child(struct evo_evaluator *ev, int grace_ms, char *why, size_t why_size)
{
    int status = 0;
    if (ev->pid == 0)
        return;
    close(ev->in_fd);
    close(ev->out_fd);
    ev->in_fd = ev->out_fd = -1;
    if (ev->forked)
        stop_forked(ev, grace_ms, &status);
    else
        stop_spawned(ev, grace_ms, &status);
    if (why && WIFSIGNALED(status))
        snprintf(why, why_size, "evaluator killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (why)
        snprintf(why, why_size, "evaluator exited with status %d before answering", WEXITSTATUS(status));
    ev->pid = 0;
    ev->rlen = 0;
    set_blocked(ev, 0);
}

/* Stops the child and drops what was queued for it (stop_child's `why`):
 * whatever it had been given, it will never answer. */
static void drop_child(struct evo_evaluator *ev, char *why, size_t why_size)
{
    stop_child(ev, 0, why, why_size);
    evo_buf_reset(&ev->pending);
    ev->pending_at = 0;
}

static void fail_item(struct evo_buf *out, uint64_t id, const char *why)
{
    evo_proto_put_result_error(out, id, EVO_RESULT_ATTEMPT_FAILED, why);
}

/* Writes what it can. -1 if the child's stdin is closed. */
static int flush_inputs(struct evo_evaluator *ev)
{
    if (ev->pending_at < ev->pending.len)
        EVO_TRACE("worker.write");
    while (ev->pending_at < ev->pending.len) {
        ssize_t n = write(ev->in_fd, ev->pending.data + ev->pending_at, ev->pending.len - ev->pending_at);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        ev->pending_at += (size_t)n;
    }
    evo_buf_reset(&ev->pending);
    ev->pending_at = 0;
    return 0;
}

/* Reads what is there. 1 on EOF, -1 on error, 0 otherwise. */
static int read_outputs(struct evo_evaluator *ev)
{
    for (;;) {
        if (ev->rcap - ev->rlen < 65536) {
            char *r = realloc(ev->rbuf, ev->rcap + 131072);
            if (r == NULL)
                return -1;
            ev->rbuf = r;
            ev->rcap += 131072;
        }
        ssize_t n = read(ev->out_fd, ev->rbuf + ev->rlen, ev->rcap - ev->rlen);
        if (n == 0)
            return 1;
        if (n < 0)
            return errno == EAGAIN || errno == EINTR ? 0 : -1;
        ev->rlen += (size_t)n;
    }
}

/* When the head candidate must be answered by, counted from now. */
static int64_t next_deadline(const struct evo_evaluator *ev)
{
    if (ev->timeout_ms == 0)
        return INT64_MAX;
    return evo_now_ms() + ev->timeout_ms + (ev->fresh ? ev->startup_ms : 0);
}

struct run_state {
    const struct evo_input_list *batch;
    struct evo_buf *out;
    size_t answered; /* candidates with a result item in `out` */
    size_t written;  /* candidates queued to the current child */
    int safe;        /* one candidate at a time (after a failure) */
    int64_t deadline_ms;
};

/* Queues candidates for writing: ahead of the answers normally, only the
 * head one in safe mode. */
static void queue_inputs(struct evo_evaluator *ev, struct run_state *s)
{
    size_t limit = s->safe ? s->answered + 1 : s->batch->count;
    while (s->written < limit && ev->pending.len - ev->pending_at < WRITE_AHEAD) {
        size_t i = s->written;
        if (evo_codec_put_input(ev->codec, &ev->pending, s->batch->kind[i], evo_input_list_data(s->batch, i),
                                s->batch->size[i]) < 0)
            break; /* a payload for a vector evaluator: evo_evaluator_run answers it */
        s->written++;
    }
}

/* Turns complete answers in the read buffer into result items. Returns -1
 * if the stream broke (the child must be restarted). */
static int take_answers(struct evo_evaluator *ev, struct run_state *s)
{
    size_t at = 0, used;
    struct evo_eval_output answer;
    int broken = 0;
    while (!broken && s->answered < s->written &&
           (used = evo_codec_take_output(ev->codec, ev->rbuf + at, ev->rlen - at, ev->objectives, &answer)) > 0) {
        at += used;
        if (answer.notice) {
            /* While the call waits on other tasks its clock stops: those
             * have their own timeouts. */
            set_blocked(ev, answer.notice == EVO_NOTICE_BLOCKED);
            s->deadline_ms = ev->blocked ? INT64_MAX : next_deadline(ev);
            continue;
        }
        set_blocked(ev, 0);
        EVO_TRACE("worker.answer");
        uint64_t id = s->batch->id[s->answered++];
        if (answer.ok && answer.payload && answer.unkept)
            evo_proto_put_result_unkept(s->out, id, answer.payload_size, answer.payload);
        else if (answer.ok && answer.payload)
            evo_proto_put_result_payload(s->out, id, answer.payload_size, answer.payload);
        else if (answer.ok)
            evo_proto_put_result_ok(s->out, id, answer.n, answer.objectives);
        else
            fail_item(s->out, id, answer.text);
        broken = answer.broken;
        ev->fresh = 0;
        s->deadline_ms = next_deadline(ev);
    }
    if (at > 0) { /* nothing read yet: rbuf may still be NULL */
        memmove(ev->rbuf, ev->rbuf + at, ev->rlen - at);
        ev->rlen -= at;
    }
    return broken ? -1 : 0;
}

/* After the child crashed or hung. When several candidates were queued to
 * it, the culprit is unknown (answers to earlier ones may have died in the
 * child's buffers), so nobody is blamed and the rest of the batch runs one
 * candidate at a time; then the failing candidate gets the failed attempt. */
static void restart_after(struct evo_evaluator *ev, struct run_state *s, const char *why)
{
    char ended[256];
    int ambiguous = !s->safe && s->written > s->answered + 1;
    drop_child(ev, ended, sizeof ended);
    if (why == NULL)
        why = ended;
    if (ambiguous) {
        evo_debug("%s with several candidates queued; finding the culprit one at a time", why);
        s->safe = 1;
    } else if (s->answered < s->batch->count) {
        fail_item(s->out, s->batch->id[s->answered++], why);
    }
    s->written = s->answered;
}

/* One poll round of a running child, and of `watch` beside it (NULL:
 * none). Whether `watch` has input. (zmq_poll reports a raw descriptor's
 * hang-up as ZMQ_POLLERR.) */
static int serve_child(struct evo_evaluator *ev, struct run_state *s, int tick_ms, const zmq_pollitem_t *watch)
{
    queue_inputs(ev, s);
    int64_t now = evo_now_ms();
    int wait = s->deadline_ms - now < tick_ms ? (int)(s->deadline_ms - now) : tick_ms;
    zmq_pollitem_t items[3] = {{NULL, ev->out_fd, ZMQ_POLLIN, 0},
                               {NULL, ev->in_fd, ev->pending.len > ev->pending_at ? ZMQ_POLLOUT : 0, 0}};
    int n = 2;
    if (watch != NULL)
        items[n++] = *watch;
    if (zmq_poll(items, n, wait < 0 ? 0 : wait) < 0)
        return 0; /* EINTR: the caller's loop comes back */
    short from_child = items[0].revents, to_child = items[1].revents;
    if ((to_child & (ZMQ_POLLOUT | ZMQ_POLLERR)) && flush_inputs(ev) < 0) {
        ev->pending_at = ev->pending.len; /* child gone: its stdout will say EOF */
    }
    int rc = (from_child & (ZMQ_POLLIN | ZMQ_POLLERR)) ? read_outputs(ev) : 0;
    if (take_answers(ev, s) < 0) {
        drop_child(ev, NULL, 0);
        s->written = s->answered;
    } else if (rc != 0 || (from_child == 0 && child_ended(ev))) {
        /* Ended although something it started still holds its output open:
         * as good as EOF (everything it wrote has been read above). Asked
         * only in a round with nothing to read, off the path of a busy
         * child. */
        restart_after(ev, s, NULL);
    } else if (evo_now_ms() >= s->deadline_ms) {
        char why[128];
        snprintf(why, sizeof why, "evaluation timed out after %.3gs (evaluator killed)", ev->timeout_ms / 1000.0);
        restart_after(ev, s, why);
    }
    return watch != NULL && (items[2].revents & ZMQ_POLLIN);
}

int evo_evaluator_run(struct evo_evaluator *ev, const struct evo_input_list *batch, struct evo_buf *out,
                      int (*tick)(void *arg), void *arg, int tick_ms, const zmq_pollitem_t *watch)
{
    struct run_state s = {batch, out, 0, 0, 0, INT64_MAX};
    int64_t next_tick = evo_now_ms() + tick_ms;
    evo_buf_reset(&ev->pending);
    ev->pending_at = 0;
    while (s.answered < batch->count) {
        if (s.written == s.answered && !evo_codec_carries(ev->codec, batch->kind[s.answered])) {
            fail_item(out, batch->id[s.answered++],
                      "this task carries a payload (a Python call), but the farm's "
                      "evaluator reads vectors: use evaluate: {python: python3}");
            s.written = s.answered;
            continue;
        }
        if (ev->pid == 0) {
            if (start_child(ev) < 0) {
                fail_item(out, batch->id[s.answered++], ev->start_error);
                continue;
            }
            s.written = s.answered;
        }
        if (s.written == s.answered)
            s.deadline_ms = next_deadline(ev);
        int heard = serve_child(ev, &s, tick_ms, watch);
        if (heard || evo_now_ms() >= next_tick) {
            next_tick = evo_now_ms() + tick_ms;
            if (tick && tick(arg)) {
                /* Abandoned (the broker took the batch back, or we leave):
                 * the child would still answer what was written to it, and
                 * those answers be read as the next batch's. It goes; the
                 * next batch starts a fresh one. */
                if (s.written > s.answered || ev->rlen > 0)
                    drop_child(ev, NULL, 0);
                return -1;
            }
        }
    }
    return 0;
}

void evo_evaluator_start(struct evo_evaluator *ev)
{
    if (ev->fork) { /* the server only: its first child is forked when the first calls (and the script) have come */
        char err[256];
        if (connect_server(ev, err, sizeof err) < 0)
            evo_debug("%s (tried again at the first batch)", err);
        return;
    }
    if (ev->pid == 0)
        start_child(ev);
}

void evo_evaluator_destroy(struct evo_evaluator *ev)
{
    if (ev == NULL)
        return;
    stop_child(ev, 500, NULL, 0);
    evo_forkserver_close(&ev->server);
    for (size_t i = 0; ev->argv && ev->argv[i]; i++)
        free(ev->argv[i]);
    free(ev->argv);
    free(ev->workdir);
    evo_buf_free(&ev->pending);
    free(ev->rbuf);
    free(ev);
}
