/* rng.h — the optimiser's random numbers: xoshiro256** seeded through
 * splitmix64 (Blackman & Vigna), standard normals by Box-Muller. The whole
 * state is four words, so a checkpoint restores the exact stream. */
#ifndef EVO_RNG_H
#define EVO_RNG_H

#include <stdint.h>

struct evo_rng {
    uint64_t s[4];
};

/* Seeds the generator; every seed (0 too) gives a valid, distinct stream. */
void evo_rng_seed(struct evo_rng *rng, uint64_t seed);

/* Uniform on [0, 1), 53 random bits. */
double evo_rng_uniform(struct evo_rng *rng);

/* Standard normal; uses two uniforms per call (no cached value). */
double evo_rng_normal(struct evo_rng *rng);

#endif
