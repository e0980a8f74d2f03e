/* proto.h — encoding and strict validation of evo-farm protocol v7 messages
 * (docs/protocol.md). Pure functions over bytes: no sockets here. */
#ifndef EVO_PROTO_H
#define EVO_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "evofarm/stats.h"
#include "util/buf.h"
#include "util/names.h" /* EVO_MAX_DIMENSION, EVO_MAX_OBJECTIVES, EVO_HOST_MAX */

#define EVO_PROTO_VERSION     7
#define EVO_PROTO_HEADER_SIZE 4
#define EVO_PROTO_MAX_ITEMS   (1u << 20)
#define EVO_PROTO_MAX_HOST    EVO_HOST_MAX
#define EVO_PROTO_MAX_PAYLOAD (16u << 20)
#define EVO_PROTO_MAX_SHARE   (1u << 30) /* bytes of one shared constant */
#define EVO_PROTO_SHARE_PIECE (1u << 20) /* bytes of a constant in one SHARE: it travels in pieces */
#define EVO_PROTO_MAX_NAME    64         /* bytes of a shared constant's name */
#define EVO_PROTO_MAX_JOB     63         /* bytes of a worker's Slurm JOBID.STEP */
#define EVO_PROTO_KEY         40         /* a Z85 public key's characters (HELLO over a Unix stream) */
/* The largest body of any message (one payload item and its framing):
 * every sender keeps its messages within it (batches, result lists and
 * constants travel in pieces) and every socket refuses a bigger frame
 * (ZMQ_MAXMSGSIZE) before reading it, authenticated or not. */
#define EVO_PROTO_MAX_MESSAGE (EVO_PROTO_MAX_PAYLOAD + (64u << 10))

enum evo_msg_type {
    EVO_MSG_HELLO = 1,
    EVO_MSG_WELCOME = 2,
    EVO_MSG_HEARTBEAT = 3,
    EVO_MSG_TASKS = 4,
    EVO_MSG_RESULTS = 5,
    EVO_MSG_SUBMIT = 6,
    EVO_MSG_DONE = 7,
    EVO_MSG_STATS_REQUEST = 8,
    EVO_MSG_STATS = 9,
    EVO_MSG_BYE = 10,
    EVO_MSG_RESET = 11,
    EVO_MSG_WITHDRAW = 12,     /* driver -> broker: tags to take back if no worker has them */
    EVO_MSG_BLOCKED = 13,      /* worker -> broker: its evaluation waits on others; work given back */
    EVO_MSG_SHARE = 14,        /* driver -> broker -> every worker: a named constant */
    EVO_MSG_DRAIN = 15,        /* control -> broker: give no more work to these workers; they leave when done */
    EVO_MSG_DRAINED = 16,      /* broker -> control: how many workers that drain concerned */
    EVO_MSG_RESULTS_PART = 17, /* worker -> broker: results of a batch whose RESULTS follows */
};

/* What a peer says it is in HELLO (its key's role, wire/credentials.h, decides what it may do). */
enum evo_peer_kind { EVO_PEER_WORKER = 1, EVO_PEER_DRIVER = 2 };

enum evo_result_status {
    EVO_RESULT_OK = 0,             /* objective values */
    EVO_RESULT_ATTEMPT_FAILED = 1, /* worker -> broker: text */
    EVO_RESULT_ERROR = 2,          /* broker -> driver, final: text */
    EVO_RESULT_OK_PAYLOAD = 3,     /* an opaque answer (bytes) */
    EVO_RESULT_WITHDRAWN = 4,      /* broker -> driver: taken back, never evaluated; no body */
    EVO_RESULT_OK_UNKEPT = 5,      /* worker -> broker: an answer (bytes) no journal keeps (an exception) */
};

/* What a task carries: a vector of doubles, or opaque bytes (a payload,
 * e.g. a pickled Python call) for an evaluator that reads payloads. */
enum evo_input_kind { EVO_INPUT_VECTOR = 0, EVO_INPUT_PAYLOAD = 1 };

/* Writes the 4-byte header of a message of `type` into out. */
void evo_proto_header(unsigned char out[EVO_PROTO_HEADER_SIZE], enum evo_msg_type type);

/* Checks a header frame. Returns the message type, or -1 with a reason in
 * `why` (bad size, magic, version or unknown type). */
int evo_proto_parse_header(const void *data, size_t size, char *why, size_t why_size);

/* Whether a message of this type carries a body frame. */
int evo_proto_has_body(enum evo_msg_type type);

struct evo_hello {
    uint8_t kind;  /* what it said it is in HELLO: enum evo_peer_kind */
    uint8_t reads; /* a worker: what its evaluator reads, enum evo_input_kind; a driver: 0 */
    uint32_t pid;
    char host[EVO_PROTO_MAX_HOST + 1];
    char job[EVO_PROTO_MAX_JOB + 1]; /* the peer's Slurm JOBID.STEP, or empty */
    char key[EVO_PROTO_KEY + 1];     /* over a Unix stream: the public key the peer holds (its role); else empty */
};

struct evo_welcome {
    uint32_t heartbeat_ms;
    uint32_t liveness;
    uint32_t serial;
};

void evo_proto_put_hello(struct evo_buf *buf, const struct evo_hello *hello);
int evo_proto_get_hello(const void *data, size_t size, struct evo_hello *out);
/* DRAIN: which workers, a host name or a Slurm JOBID[.STEP] (1..255
 * printable bytes, no space); DRAINED: how many workers it concerned. */
void evo_proto_put_drain(struct evo_buf *buf, const char *selector);
int evo_proto_get_drain(const void *data, size_t size, char out[EVO_PROTO_MAX_HOST + 1]);
void evo_proto_put_drained(struct evo_buf *buf, uint32_t workers);
int evo_proto_get_drained(const void *data, size_t size, uint32_t *workers);

void evo_proto_put_welcome(struct evo_buf *buf, const struct evo_welcome *welcome);
int evo_proto_get_welcome(const void *data, size_t size, struct evo_welcome *out);

/* Input lists (TASKS, SUBMIT). Encoding: begin with the count, then put
 * exactly that many items, vectors or payloads. */
void evo_proto_begin_inputs(struct evo_buf *buf, uint32_t count);
void evo_proto_put_vector(struct evo_buf *buf, uint64_t id, uint32_t dim, const double *x);
void evo_proto_put_payload(struct evo_buf *buf, uint64_t id, uint32_t size, const void *data);
/* Either of the two: `size` is the dimension of a vector (data: doubles)
 * or the byte count of a payload. */
void evo_proto_put_input(struct evo_buf *buf, uint64_t id, enum evo_input_kind kind, uint32_t size, const void *data);

/* A decoded input list. Item i is a vector values[offset[i] ..
 * offset[i]+size[i]) when kind[i] is EVO_INPUT_VECTOR (size: its
 * dimension), or a payload bytes[offset[i] .. offset[i]+size[i]) when it is
 * EVO_INPUT_PAYLOAD (size: its byte count). */
struct evo_input_list {
    size_t count;
    uint64_t *id;
    uint8_t *kind;
    uint32_t *size;
    size_t *offset;
    double *values;
    unsigned char *bytes;
};

/* Item i's data (doubles or bytes) for evo_proto_put_input. */
const void *evo_input_list_data(const struct evo_input_list *list, size_t i);

/* Decodes and validates a whole body. 0 on success (free with
 * evo_input_list_free), -1 if malformed (nothing to free). */
int evo_proto_get_inputs(const void *data, size_t size, struct evo_input_list *out);
void evo_input_list_free(struct evo_input_list *list);

/* Result lists (RESULTS with a leading u64 elapsed_ns, DONE without). */
void evo_proto_begin_results(struct evo_buf *buf, uint32_t count);
void evo_proto_put_result_ok(struct evo_buf *buf, uint64_t id, unsigned n, const double *objectives);
void evo_proto_put_result_payload(struct evo_buf *buf, uint64_t id, uint32_t size, const void *data);
/* An answer the journal must not keep (status EVO_RESULT_OK_UNKEPT): a
 * Python exception the call raised, delivered to the driver as a payload. */
void evo_proto_put_result_unkept(struct evo_buf *buf, uint64_t id, uint32_t size, const void *data);
/* The bytes an item takes in a message: an input (vector or payload), or
 * an answer (n objectives when n > 0, else a payload of payload_size), so
 * that a sender starts a new message before one would pass
 * EVO_PROTO_MAX_MESSAGE. */
size_t evo_proto_input_bytes(enum evo_input_kind kind, uint32_t size);
size_t evo_proto_result_bytes(unsigned n, uint32_t payload_size);
/* `text` is truncated to 65535 bytes. */
void evo_proto_put_result_error(struct evo_buf *buf, uint64_t id, enum evo_result_status status, const char *text);

/* One item of a result list, read in place: text and payload point into
 * the body, valid as long as it is. */
struct evo_result_item {
    uint64_t id;
    uint8_t status;
    uint8_t n; /* objectives, when status is OK */
    double objectives[EVO_MAX_OBJECTIVES];
    const char *text; /* when status is an error: text_size bytes, not NUL-terminated */
    uint16_t text_size;
    const unsigned char *payload; /* when status is OK_PAYLOAD: payload_size bytes */
    uint32_t payload_size;
};

/* Reads a RESULTS body (with_elapsed = 1) or a DONE body (0) one item at a
 * time, allocating nothing: whatever a frame claims, reading it costs no
 * memory beyond the frame itself. */
struct evo_results_reader {
    struct evo_reader r;
    enum evo_result_status allowed_error;
    uint64_t elapsed_ns; /* RESULTS only */
    uint32_t count;      /* items in the body */
    uint32_t left;       /* items not yet read */
};

/* Validates the whole body first (statuses other than `allowed_error`, OK
 * and OK_PAYLOAD are malformed, but OK_UNKEPT in a worker's results, whose
 * allowed_error is ATTEMPT_FAILED, as are a count of 0 or above
 * EVO_PROTO_MAX_ITEMS and trailing bytes), so a caller acts on no item of
 * a malformed body. 0, or -1 if malformed. */
int evo_proto_results_open(const void *data, size_t size, int with_elapsed, enum evo_result_status allowed_error,
                           struct evo_results_reader *reader);
/* The next item: 1 with *item filled, 0 when every item has been read. */
int evo_proto_results_next(struct evo_results_reader *reader, struct evo_result_item *item);

/* An id list (WITHDRAW): u32 count (1..EVO_PROTO_MAX_ITEMS), count u64. */
void evo_proto_put_ids(struct evo_buf *buf, const uint64_t *ids, uint32_t count);
/* Decodes an id list; *ids is malloc'd (free it). 0, or -1 if malformed. */
int evo_proto_get_ids(const void *data, size_t size, uint64_t **ids, size_t *count);

/* BLOCKED: whether the worker's evaluation now waits on other tasks, how
 * many of the batches it held it gives back unstarted, and their task ids
 * (count may be 0). */
struct evo_blocked {
    uint8_t blocked;
    uint32_t batches;
    size_t count;
    uint64_t *ids; /* owned */
};
void evo_proto_put_blocked(struct evo_buf *buf, int blocked, uint32_t batches, const uint64_t *ids, uint32_t count);
/* 0 (free out->ids), or -1 if malformed (nothing to free). */
int evo_proto_get_blocked(const void *data, size_t size, struct evo_blocked *out);

/* SHARE: u8 n, n bytes of name (1..64 of [A-Za-z0-9_], not starting with
 * a digit), u32 total (..EVO_PROTO_MAX_SHARE), u32 offset, then one piece
 * of the value: the rest of the body, 1..EVO_PROTO_SHARE_PIECE bytes (0
 * only for an empty constant), offset + piece <= total. A constant travels
 * as its pieces in order on one connection, so that no message is so big
 * that a peer's liveness could expire while it crosses
 * (wire/share_pieces.h). */
struct evo_share {
    char name[EVO_PROTO_MAX_NAME + 1];
    const unsigned char *value; /* the piece, pointing into the decoded body */
    size_t size;                /* the piece's bytes */
    size_t total;               /* the whole constant's bytes */
    size_t offset;              /* where the piece starts in it */
};
/* Whether `name` is a valid constant name (also a safe file name). */
int evo_proto_share_name_ok(const char *name, size_t n);
/* Appends one piece: piece->name, total, offset, and size bytes at value. */
void evo_proto_put_share(struct evo_buf *buf, const struct evo_share *piece);
/* 0 (out->value points into data), or -1 if malformed. */
int evo_proto_get_share(const void *data, size_t size, struct evo_share *out);

/* A result item of status WITHDRAWN (DONE only). */
void evo_proto_put_result_withdrawn(struct evo_buf *buf, uint64_t id);

void evo_proto_put_stats(struct evo_buf *buf, const struct evo_stats *stats);
int evo_proto_get_stats(const void *data, size_t size, struct evo_stats *out);

#endif
