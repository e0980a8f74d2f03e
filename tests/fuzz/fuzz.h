/* fuzz.h — what the libFuzzer targets share: an assertion that aborts
 * (libFuzzer and the replay runner both report an abort as a finding) and
 * a reader that turns the fuzzer's bytes into choices. */
#ifndef EVO_FUZZ_H
#define EVO_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: fuzz assertion failed: %s\n", __FILE__, __LINE__, #cond);                          \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

/* The input, taken from the front: choices first, then the rest as data. */
struct fuzz_bytes {
    const uint8_t *data;
    size_t left;
};

static inline uint8_t fuzz_u8(struct fuzz_bytes *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->data++;
}

static inline uint16_t fuzz_u16(struct fuzz_bytes *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

/* A NUL-terminated copy of the next n bytes (fewer when the input ends);
 * the caller frees it. */
static inline char *fuzz_string(struct fuzz_bytes *in, size_t n)
{
    if (n > in->left)
        n = in->left;
    char *s = malloc(n + 1);
    if (s == NULL)
        abort();
    memcpy(s, in->data, n);
    s[n] = '\0';
    in->data += n;
    in->left -= n;
    return s;
}

#endif
