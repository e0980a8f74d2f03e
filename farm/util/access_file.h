/* access_file.h — reading the files by which a running farm is reached
 * from outside it: a built-in optimiser's farm.access, a farm's record
 * ~/.evo-farm/farms/ID and its join credential ID.join (written by
 * drivers/farm_access.c). Reading only, with no dependency beyond libc, so
 * that the SPANK plugin reads a join credential with the same code as
 * `evo-farm join`. */
#ifndef EVO_ACCESS_FILE_H
#define EVO_ACCESS_FILE_H

#include <stddef.h>

struct evo_access {
    char endpoints[1024]; /* comma-separated, the most routable first */
    char server[64], public_key[64], secret[64];
    char nested_public[64], nested_secret[64];   /* a join credential's: for the workers' evaluators */
    char control_public[64], control_secret[64]; /* a farm record's: for evo-farm drain */
    /* a farm record's (evo_farm_record_write); empty / 0 in farm.access */
    char id[320], kind[16], host[256], dir[1024], command[512];
    long long pid, started;
};

/* The most a join credential may hold: its access lines and a
 * configuration of EVO_CONFIG_TEXT_MAX (util/names.h). */
#define EVO_ACCESS_FILE_MAX (100 * 1024)

/* Reads the access file, record or join credential at path (never through
 * a symbolic link; refused when others may read it or it is not this
 * user's) into a. A join credential's configuration text goes into
 * *config_text (malloc'd, the caller frees it) when config_text is not
 * NULL; a file without one then fails. 0, or -1 with errno and a one-line
 * message naming the file in err. */
int evo_access_read_file(const char *path, struct evo_access *a, char **config_text, char *err, size_t err_size);

/* The join credential of FARM in records_dir (~/.evo-farm/farms): FARM.join,
 * else FARM.0.join (a job id stands for its first step). 0 with its path in
 * out, or -1 when there is none. */
int evo_join_credential_find(const char *records_dir, const char *farm, char *out, size_t size);

#endif
