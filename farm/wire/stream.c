/* stream.c — see stream.h. */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/clock.h"

static int address(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(a->sun_path, path);
    return 0;
}

static struct evo_stream *stream_of(int fd)
{
    struct evo_stream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        return NULL;
    }
    s->fd = fd;
    return s;
}

int evo_stream_listen(const char *path, char *err, size_t err_size)
{
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || address(&a, path) < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0) {
        snprintf(err, err_size, "cannot listen on %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

struct evo_stream *evo_stream_accept(int listen_fd, uid_t uid, int *refused)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    *refused = 0;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != uid) {
        *refused = 1;
        close(fd);
        return NULL;
    }
    return stream_of(fd);
}

/* Whether the directory of the socket at path is ours alone (ours, no
 * access for group or others, no symbolic link), as the broker makes it;
 * err says why not. */
static int directory_ours(const char *path, char *err, size_t err_size)
{
    char dir[sizeof((struct sockaddr_un *)0)->sun_path];
    struct stat st;
    const char *slash = strrchr(path, '/');
    size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof dir) {
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(ENAMETOOLONG));
        return 0;
    }
    memcpy(dir, slash ? path : ".", n);
    dir[n] = '\0';
    if (lstat(dir, &st) < 0) {
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0) {
        snprintf(err, err_size, "%s is in %s, which is not ours alone (owner uid %u, mode %04o): not the farm's broker",
                 path, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return 0;
    }
    return 1;
}

int evo_unix_connect(const char *path, char *err, size_t err_size)
{
    struct sockaddr_un a;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (!directory_ours(path, err, err_size))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || address(&a, path) < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (cred.uid != getuid()) { /* a socket another user made at the path: never our broker */
        snprintf(err, err_size, "%s is a socket of uid %u, not ours (%u): not the farm's broker", path,
                 (unsigned)cred.uid, (unsigned)getuid());
        close(fd);
        return -1;
    }
    return fd;
}

struct evo_stream *evo_stream_connect(const char *path, char *err, size_t err_size)
{
    int fd = evo_unix_connect(path, err, err_size);
    if (fd >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    return fd < 0 ? NULL : stream_of(fd);
}

void evo_stream_close(struct evo_stream *s)
{
    if (s == NULL)
        return;
    close(s->fd);
    free(s->in);
    evo_buf_free(&s->out);
    free(s);
}

int evo_stream_pending(const struct evo_stream *s)
{
    return s->out_at < s->out.len;
}

int evo_stream_flush(struct evo_stream *s)
{
    while (s->out_at < s->out.len) {
        ssize_t n = send(s->fd, s->out.data + s->out_at, s->out.len - s->out_at, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 1;
        if (n < 0) {
            s->closed = 1;
            return -1;
        }
        s->out_at += (size_t)n;
    }
    evo_buf_reset(&s->out);
    s->out_at = 0;
    if (s->out.cap > (4u << 20)) /* a big SHARE went out: do not keep its copy */
        evo_buf_free(&s->out);
    return 0;
}

int evo_stream_send(struct evo_stream *s, enum evo_msg_type type, const struct evo_buf *body, int wait_ms)
{
    unsigned char header[EVO_PROTO_HEADER_SIZE];
    int has_body = evo_proto_has_body(type);
    if (s->closed || (has_body && (body == NULL || body->failed))) {
        errno = s->closed ? EPIPE : ENOMEM;
        return -1;
    }
    evo_proto_header(header, type);
    evo_buf_put_u32(&s->out, (uint32_t)(sizeof header + (has_body ? body->len : 0)));
    evo_buf_put(&s->out, header, sizeof header);
    if (has_body)
        evo_buf_put(&s->out, body->data, body->len);
    if (s->out.failed) {
        errno = ENOMEM;
        return -1;
    }
    return evo_stream_flush_wait(s, wait_ms) < 0 ? -1 : 0;
}

int evo_stream_flush_wait(struct evo_stream *s, int wait_ms)
{
    int rc = evo_stream_flush(s);
    for (int64_t deadline = evo_now_ms() + wait_ms; rc == 1 && evo_now_ms() < deadline;) {
        struct pollfd p = {s->fd, POLLOUT, 0};
        poll(&p, 1, (int)(deadline - evo_now_ms()));
        rc = evo_stream_flush(s);
    }
    return rc;
}

/* Reads what has arrived, up to EVO_STREAM_READ_MAX bytes. `want`: the
 * bytes still missing of the message begun (its buffer grows to hold it
 * at once), or 0. */
static int fill(struct evo_stream *s, size_t want)
{
    if (s->in_at > 0) { /* what was taken goes, once per read rather than once per message */
        memmove(s->in, s->in + s->in_at, s->in_len - s->in_at);
        s->in_len -= s->in_at;
        s->in_at = 0;
    }
    for (size_t got = 0; got < EVO_STREAM_READ_MAX;) {
        if (s->in_cap - s->in_len < 65536) {
            size_t cap = s->in_cap ? s->in_cap * 2 : 131072;
            if (cap < s->in_len + want)
                cap = s->in_len + want;
            unsigned char *in = realloc(s->in, cap);
            if (in == NULL)
                return -1;
            s->in = in;
            s->in_cap = cap;
        }
        ssize_t n = recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            s->closed = 1;
            return -1;
        }
        if (n < 0)
            return 0;
        s->in_len += (size_t)n;
        s->last_byte_ms = evo_now_ms();
        got += (size_t)n;
        if ((size_t)n < 65536) /* took what was there */
            return 0;
    }
    return 0;
}

static int frame(zmq_msg_t *f, const void *data, size_t size)
{
    if (zmq_msg_init_size(f, size) < 0)
        return -1;
    memcpy(zmq_msg_data(f), data, size);
    return 0;
}

int evo_stream_recv(struct evo_stream *s, struct evo_message *msg, const void *identity, size_t identity_size)
{
    memset(msg, 0, sizeof *msg);
    msg->identity_frame = identity != NULL;
    if (s->in_len - s->in_at < 4 && !s->closed)
        fill(s, 0);
    size_t have = s->in_len - s->in_at;
    if (have >= 4) {
        const unsigned char *head = s->in + s->in_at;
        uint32_t n = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
        if (n < EVO_PROTO_HEADER_SIZE || n > EVO_STREAM_MAX) {
            s->closed = 1; /* no way to find the next message: the peer is dropped */
            s->in_len = s->in_at = 0;
            errno = EPROTO;
            return -1;
        }
        if (have < 4 + (size_t)n && !s->closed) {
            fill(s, 4 + (size_t)n - have);
            have = s->in_len - s->in_at;
        }
        if (have >= 4 + (size_t)n) {
            const unsigned char *p = s->in + s->in_at + 4;
            int rc = 0;
            if (identity && frame(&msg->frames[msg->nframes++], identity, identity_size) < 0)
                rc = -1;
            if (rc == 0 && frame(&msg->frames[msg->nframes++], p, EVO_PROTO_HEADER_SIZE) < 0)
                rc = -1;
            int type = rc == 0 ? evo_proto_parse_header(p, EVO_PROTO_HEADER_SIZE, msg->why, sizeof msg->why) : -1;
            if (rc == 0 && n > EVO_PROTO_HEADER_SIZE &&
                frame(&msg->frames[msg->nframes++], p + EVO_PROTO_HEADER_SIZE, n - EVO_PROTO_HEADER_SIZE) < 0)
                rc = -1;
            s->in_at += 4 + (size_t)n;
            if (rc < 0) {
                snprintf(msg->why, sizeof msg->why, "out of memory");
                return 1;
            }
            if (type < 0)
                return 1;
            if ((n > EVO_PROTO_HEADER_SIZE) != evo_proto_has_body((enum evo_msg_type)type)) {
                snprintf(msg->why, sizeof msg->why, "message type %d %s a body", type,
                         n > EVO_PROTO_HEADER_SIZE ? "with" : "without");
                return 1;
            }
            msg->type = type;
            return 0;
        }
    }
    errno = s->closed ? EPIPE : EAGAIN;
    return -1;
}
