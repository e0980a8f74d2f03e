/* replay_main.c — runs a libFuzzer target without libFuzzer: each file
 * argument is one input to LLVMFuzzerTestOneInput, so the unit suite
 * replays the seed corpora and every regression input with the normal
 * compiler (tests/fuzz/fuzz.mk, fuzz-replay). A finding aborts. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        size_t cap = 4096, n = 0, got;
        uint8_t *data = malloc(cap);
        while (data && (got = fread(data + n, 1, cap - n, f)) > 0)
            if ((n += got) == cap)
                data = realloc(data, cap *= 2);
        fclose(f);
        if (data == NULL)
            return 1;
        LLVMFuzzerTestOneInput(data, n);
        free(data);
        ran++;
    }
    printf("%d inputs replayed\n", ran);
    return 0;
}
