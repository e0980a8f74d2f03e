/* credentials.h — what a member needs to join a farm: the broker's endpoint,
 * its CURVE public key and the member key pair, made in memory (only public
 * keys ever travel between hosts; the member pair reaches a farm's own
 * processes through their environment). */
#ifndef EVO_CREDENTIALS_H
#define EVO_CREDENTIALS_H

#include <stddef.h>

#include "util/names.h" /* EVO_KEY_TEXT, EVO_ENDPOINT_MAX */

/* What a member needs to join a farm. The broker alone also holds
 * server_secret; peers leave it empty. */
struct evo_credentials {
    char endpoint[EVO_ENDPOINT_MAX];
    char server_public[EVO_KEY_TEXT];
    char server_secret[EVO_KEY_TEXT];
    char client_public[EVO_KEY_TEXT];
    char client_secret[EVO_KEY_TEXT];
    char local[EVO_PATH_MAX]; /* the broker's Unix socket for members of its machine (EVO_FARM_LOCAL), or
                                 empty: read from the environment with the rest, never given explicitly */
};

/* Makes a fresh server pair and member pair. 0, or -1 with errno (CURVE
 * unavailable in this libzmq: ENOTSUP). */
int evo_credentials_generate(struct evo_credentials *creds);

/* One more CURVE key pair (Z85), e.g. the farm's status key. 0, or -1. */
int evo_credentials_keypair(char public_key[EVO_KEY_TEXT], char secret[EVO_KEY_TEXT]);

/* Reads EVO_FARM_ENDPOINT, EVO_FARM_SERVER_KEY, EVO_FARM_CLIENT_PUBLIC and
 * EVO_FARM_CLIENT_SECRET. 0, or -1 with the missing/bad variable in err. */
int evo_credentials_from_env(struct evo_credentials *creds, char *err, size_t err_size);

/* Only EVO_FARM_CLIENT_PUBLIC and EVO_FARM_CLIENT_SECRET (the member pair the
 * SPANK plugin makes for a step); the other fields are left empty. */
int evo_credentials_member_from_env(struct evo_credentials *creds, char *err, size_t err_size);

/* Sets those four variables in this process's environment. */
int evo_credentials_to_env(const struct evo_credentials *creds);

#endif
