/* journal.h — the farm's memory of evaluations across runs (output.journal,
 * `evo-farm run --journal DIR`): every successful evaluation is recorded as
 * the digest of its input (a vector or a call's payload) and its answer, as
 * it completes; a later farm with the same journal answers an input whose
 * digest is known from it, without evaluating. So any driver that submits
 * the same inputs again (a seeded DEAP script rerun after a crash) resumes
 * where it was, at no evaluation cost. The journal trusts that the same
 * input gives the same answer: it belongs to one evaluator (its identity is
 * in the file's header, and another evaluator's journal is refused). */
#ifndef EVO_JOURNAL_H
#define EVO_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define EVO_JOURNAL_DIGEST 16

struct evo_journal;

/* One recorded answer: objectives (n > 0), or a payload (n == 0). */
struct evo_journal_entry {
    unsigned n;
    const double *objectives;
    const void *payload;
    uint32_t payload_size;
};

/* The identity of a config's evaluator (hex, NUL-terminated, 33 bytes):
 * its kind, library and function, command, interpreter and objectives, and
 * the journal's version when the config gives one (journal: {dir,
 * version}). It names the evaluator, not its code: a library rebuilt or a
 * script changed at the same path keeps it, unless the version changes. */
void evo_journal_identity(const struct evo_config *config, char out[2 * EVO_JOURNAL_DIGEST + 1]);

/* Opens DIR/journal, creating DIR (0700) and the file as needed, and loads
 * every complete record; a record cut short by a crash is dropped and the
 * file truncated there. A journal of another evaluator, a file that is not
 * a journal, or one that cannot be read gives NULL with one line in err.
 * The caller owns the result (evo_journal_close). */
struct evo_journal *evo_journal_open(const char *dir, const char *identity, char *err, size_t err_size);

/* The digest of a task's input (kind: enum evo_input_kind; size: dimension
 * or bytes). */
void evo_journal_digest(uint8_t kind, uint32_t size, const void *input, unsigned char out[EVO_JOURNAL_DIGEST]);

/* The recorded answer for a digest, or NULL. Valid until the next record
 * or close. */
const struct evo_journal_entry *evo_journal_find(const struct evo_journal *journal,
                                                 const unsigned char digest[EVO_JOURNAL_DIGEST]);

/* Records an answer (objectives when n > 0, else the payload) unless the
 * digest is known: written to the file at once (a crash of this process
 * loses nothing written), made durable by evo_journal_sync. 0, or -1 with
 * errno (the journal is then read-only for the rest of the run, said once). */
int evo_journal_record(struct evo_journal *journal, const unsigned char digest[EVO_JOURNAL_DIGEST], unsigned n,
                       const double *objectives, const void *payload, uint32_t payload_size);

/* fdatasync when something was recorded since the last call. 0, or -1. */
int evo_journal_sync(struct evo_journal *journal);

/* Answers recorded (loaded and new), and the file's size in bytes. */
size_t evo_journal_count(const struct evo_journal *journal);
uint64_t evo_journal_bytes(const struct evo_journal *journal);

/* Closes (after a last sync); NULL is fine. */
void evo_journal_close(struct evo_journal *journal);

#endif
