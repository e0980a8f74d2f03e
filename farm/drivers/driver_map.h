/* driver_map.h — the built-in `map` driver: evaluates every vector of a
 * text file through the farm and writes the results in the same order. */
#ifndef EVO_DRIVER_MAP_H
#define EVO_DRIVER_MAP_H

#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

/* Reads vectors, one per line: whitespace-separated numbers; blank lines
 * and lines starting with '#' are skipped; every vector must have the same
 * dimension (and `dimension`, when non-zero). On success returns 0 with a
 * malloc'd row-major array in *values. On error returns -1 with
 * "FILE:LINE: message" in err. */
int evo_read_vectors(const char *path, unsigned dimension, double **values, size_t *count, size_t *dim, char *err,
                     size_t err_size);

/* `evo-farm __drive FILE` with optimize.strategy = map: maps the input file
 * and writes OUTPUT_DIR/results.txt (one line per vector: the objective
 * values, or "error: REASON"). Exit status: 0 all ok, 3 if some failed,
 * 1 if the farm failed, 2 for bad input. */
int evo_driver_map_main(const struct evo_config *config);

#endif
