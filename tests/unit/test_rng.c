/* test_rng.c — the optimiser's random numbers: the published xoshiro256**
 * and splitmix64 streams, reproducible and restorable from the four-word
 * state, uniforms of 53 bits in [0, 1), normals of mean 0 and variance 1. */
#include "unit.h"
#include <math.h>
#include <string.h>

#include "cmaes/rng.h"

#define DRAWS 100000

/* Known answers, computed independently from Blackman & Vigna's reference
 * code: the state splitmix64 makes from the seed, then the first outputs
 * of xoshiro256** shifted right by 11 (the 53 bits a uniform keeps). */
static void reference_outputs_reproduced(void **state)
{
    (void)state;
    struct evo_rng r;
    evo_rng_seed(&r, 0);
    assert_int_equal(r.s[0], 0xe220a8397b1dcdafULL);
    assert_int_equal(r.s[1], 0x6e789e6aa1b965f4ULL);
    assert_int_equal(r.s[2], 0x06c45d188009454fULL);
    assert_int_equal(r.s[3], 0xf88bb8a8724c81ecULL);
    const uint64_t seed0[] = {5415695640260286ULL, 6735350249106120ULL, 927921571702396ULL};
    for (int i = 0; i < 3; i++)
        assert_true(evo_rng_uniform(&r) == (double)seed0[i] * 0x1.0p-53);
    evo_rng_seed(&r, 42);
    const uint64_t seed42[] = {755370490430936ULL, 3413550631330343ULL, 6125286505004179ULL};
    for (int i = 0; i < 3; i++)
        assert_true(evo_rng_uniform(&r) == (double)seed42[i] * 0x1.0p-53);
}

static void same_seed_same_stream(void **state)
{
    (void)state;
    struct evo_rng a, b;
    evo_rng_seed(&a, 12345);
    evo_rng_seed(&b, 12345);
    for (int i = 0; i < 1000; i++) {
        assert_true(evo_rng_uniform(&a) == evo_rng_uniform(&b));
        assert_true(evo_rng_normal(&a) == evo_rng_normal(&b));
    }
    /* Seeding again restarts the stream, whatever came before. */
    evo_rng_seed(&a, 7);
    double first = evo_rng_uniform(&a);
    evo_rng_uniform(&a);
    evo_rng_seed(&a, 7);
    assert_true(evo_rng_uniform(&a) == first);
}

/* Seeds 0, 1, 2, ... and 2^64-1 give distinct, non-degenerate streams. */
static void seeds_give_distinct_streams(void **state)
{
    (void)state;
    enum { SEEDS = 64, LENGTH = 8 };
    double streams[SEEDS + 1][LENGTH];
    for (int k = 0; k <= SEEDS; k++) {
        struct evo_rng r;
        evo_rng_seed(&r, k < SEEDS ? (uint64_t)k : UINT64_MAX);
        assert_true(r.s[0] | r.s[1] | r.s[2] | r.s[3]); /* an all-zero state would stick at 0 */
        for (int i = 0; i < LENGTH; i++)
            streams[k][i] = evo_rng_uniform(&r);
    }
    for (int j = 0; j <= SEEDS; j++)
        for (int k = j + 1; k <= SEEDS; k++)
            assert_int_not_equal(memcmp(streams[j], streams[k], sizeof streams[j]), 0);
    /* Within one stream, no two consecutive values of 100k are equal. */
    struct evo_rng r;
    evo_rng_seed(&r, 0);
    double last = evo_rng_uniform(&r);
    for (int i = 0; i < DRAWS; i++) {
        double u = evo_rng_uniform(&r);
        assert_true(u != last);
        last = u;
    }
}

/* The state is the whole generator: a copy taken mid-stream (what a
 * checkpoint saves) continues exactly where the original does. */
static void state_copy_restores(void **state)
{
    (void)state;
    struct evo_rng r, saved;
    evo_rng_seed(&r, 99);
    for (int i = 0; i < 777; i++)
        evo_rng_normal(&r);
    memcpy(&saved, &r, sizeof saved);
    double expected[16];
    for (int i = 0; i < 16; i++)
        expected[i] = i % 2 ? evo_rng_normal(&r) : evo_rng_uniform(&r);
    for (int i = 0; i < 16; i++)
        assert_true((i % 2 ? evo_rng_normal(&saved) : evo_rng_uniform(&saved)) == expected[i]);
}

static void uniform_range_and_bits(void **state)
{
    (void)state;
    struct evo_rng r;
    double sum = 0, lo = 1, hi = 0;
    int odd = 0, bins[10] = {0};
    evo_rng_seed(&r, 2024);
    for (int i = 0; i < DRAWS; i++) {
        double u = evo_rng_uniform(&r), scaled = u * 0x1.0p53;
        assert_true(u >= 0.0 && u < 1.0);
        assert_true(scaled == floor(scaled)); /* a multiple of 2^-53 */
        odd += fmod(scaled, 2.0) == 1.0;      /* the lowest of the 53 bits is used */
        bins[(int)(u * 10)]++;
        sum += u;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    assert_true(fabs(sum / DRAWS - 0.5) < 0.01);
    assert_true(lo < 0.001 && hi > 0.999);
    assert_true(odd > DRAWS * 0.45 && odd < DRAWS * 0.55);
    for (int b = 0; b < 10; b++)
        assert_true(bins[b] > DRAWS / 10 * 0.95 && bins[b] < DRAWS / 10 * 1.05);
}

static void normals_have_the_right_moments(void **state)
{
    (void)state;
    struct evo_rng r;
    double sum = 0, sq = 0, fourth = 0;
    int within_one = 0;
    evo_rng_seed(&r, 31337);
    for (int i = 0; i < DRAWS; i++) {
        double z = evo_rng_normal(&r);
        assert_true(isfinite(z));
        sum += z;
        sq += z * z;
        fourth += z * z * z * z;
        within_one += fabs(z) < 1.0;
    }
    double mean = sum / DRAWS, variance = sq / DRAWS - mean * mean;
    assert_true(fabs(mean) < 0.02);
    assert_true(fabs(variance - 1.0) < 0.03);
    assert_true(fabs(fourth / DRAWS - 3.0) < 0.15); /* kurtosis of a normal */
    assert_true(fabs((double)within_one / DRAWS - 0.6827) < 0.01);
}

/* A normal consumes exactly two uniforms and caches nothing: afterwards the
 * state equals that of a twin that drew two uniforms instead. */
static void normal_uses_two_uniforms(void **state)
{
    (void)state;
    struct evo_rng a, b;
    evo_rng_seed(&a, 5);
    evo_rng_seed(&b, 5);
    for (int i = 0; i < 100; i++) {
        double z = evo_rng_normal(&a);
        double u = evo_rng_uniform(&b), v = evo_rng_uniform(&b);
        assert_memory_equal(a.s, b.s, sizeof a.s);
        /* Box-Muller on those two uniforms, 1 - u keeping log finite. */
        assert_true(fabs(z - sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v)) < 1e-12);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_outputs_reproduced), cmocka_unit_test(same_seed_same_stream),
        cmocka_unit_test(seeds_give_distinct_streams),  cmocka_unit_test(state_copy_restores),
        cmocka_unit_test(uniform_range_and_bits),       cmocka_unit_test(normals_have_the_right_moments),
        cmocka_unit_test(normal_uses_two_uniforms)};
    return EVO_RUN_TESTS(tests);
}
