/* credentials.h — what a member needs to join a farm: the broker's endpoint,
 * its CURVE public key and the member's own key pair (its role's), made in
 * memory; the pairs reach a farm's own processes through their environment,
 * each process only its own role's. */
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
    char unix_socket[EVO_PATH_MAX]; /* the broker's Unix socket for members of its machine (EVO_FARM_UNIX_SOCKET), or
                                 empty: read from the environment with the rest, never given explicitly */
};

/* The farm's client keys by role (docs/protocol.md "Keys and roles"). A
 * CURVE connection's role is the key it was admitted with, never what it
 * says: a driver key may submit; a worker key may only take work and return
 * results; a nested key (handed by a worker to its evaluator, for futures
 * submitted from inside a task) may only submit; a status key may only read
 * statistics; a control key may read statistics and drain workers
 * (`evo-farm drain`). The key of role "all" (the test harnesses and benchmarks only) may do all. Members on the
 * broker's own machine use its Unix socket, where the uid is the credential (broker.h). */
enum evo_key_role {
    EVO_KEY_DRIVER,
    EVO_KEY_WORKER,
    EVO_KEY_NESTED,
    EVO_KEY_STATUS,
    EVO_KEY_CONTROL,
    EVO_KEY_ROLES,
    EVO_KEY_ALL
};

/* The role's name: the User-Id its connections carry ("driver", "worker",
 * "nested", "status", "control", "all"). */
const char *evo_key_role_name(enum evo_key_role role);

/* The role a User-Id names; EVO_KEY_ROLES for an unknown one. */
enum evo_key_role evo_key_role_of(const char *user_id);

/* One pair per role, each public key with its secret (Z85). */
struct evo_role_keys {
    char public_key[EVO_KEY_ROLES][EVO_KEY_TEXT];
    char secret[EVO_KEY_ROLES][EVO_KEY_TEXT];
};

/* A fresh pair for every role. 0, or -1 with errno. */
int evo_role_keys_generate(struct evo_role_keys *keys);

/* The keys of a step's rank 0 (the SPANK plugin made them in srun): the
 * driver pair from EVO_FARM_CLIENT_PUBLIC/SECRET, the worker pair from
 * EVO_FARM_WORKER_PUBLIC/SECRET, the nested pair from
 * EVO_FARM_NESTED_PUBLIC/SECRET; the status and control pairs are made
 * fresh. 0, or -1
 * with the missing or bad variable in err. */
int evo_role_keys_from_env(struct evo_role_keys *keys, char *err, size_t err_size);

/* A key pair from two variables of this process's environment. 0, or -1
 * with the missing or bad variable in err. */
int evo_key_pair_from_env(const char *public_name, const char *secret_name, char public_key[EVO_KEY_TEXT],
                          char secret[EVO_KEY_TEXT], char *err, size_t err_size);

/* Makes a fresh server pair and client pair. 0, or -1 with errno (CURVE
 * unavailable in this libzmq: ENOTSUP). */
int evo_credentials_generate(struct evo_credentials *creds);

/* One more CURVE key pair (Z85), e.g. the farm's status key. 0, or -1. */
int evo_credentials_keypair(char public_key[EVO_KEY_TEXT], char secret[EVO_KEY_TEXT]);

/* Reads EVO_FARM_ENDPOINT, EVO_FARM_SERVER_KEY, EVO_FARM_CLIENT_PUBLIC and
 * EVO_FARM_CLIENT_SECRET. 0, or -1 with the missing/bad variable in err. */
int evo_credentials_from_env(struct evo_credentials *creds, char *err, size_t err_size);

/* Only EVO_FARM_CLIENT_PUBLIC and EVO_FARM_CLIENT_SECRET (this task's own
 * pair, which the SPANK plugin gave it by rank); the other fields are left
 * empty. */
int evo_credentials_member_from_env(struct evo_credentials *creds, char *err, size_t err_size);

/* Sets those four variables in this process's environment. */
int evo_credentials_to_env(const struct evo_credentials *creds);

#endif
