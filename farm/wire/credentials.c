/* credentials.c — CURVE credentials made in memory and passed to members
 * through the environment (see credentials.h). */
#include "credentials.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "util/names.h"

int evo_credentials_keypair(char public_key[EVO_KEY_TEXT], char secret[EVO_KEY_TEXT])
{
    return zmq_curve_keypair(public_key, secret) == 0 ? 0 : -1;
}

static const char *const role_names[] = {"driver", "worker", "nested", "status", "control", "", "all"};

const char *evo_key_role_name(enum evo_key_role role)
{
    return (unsigned)role <= EVO_KEY_ALL ? role_names[role] : "";
}

enum evo_key_role evo_key_role_of(const char *user_id)
{
    for (unsigned r = 0; user_id && r <= EVO_KEY_ALL; r++)
        if (r != EVO_KEY_ROLES && strcmp(user_id, role_names[r]) == 0)
            return (enum evo_key_role)r;
    return EVO_KEY_ROLES;
}

int evo_role_keys_generate(struct evo_role_keys *keys)
{
    for (int r = 0; r < EVO_KEY_ROLES; r++)
        if (evo_credentials_keypair(keys->public_key[r], keys->secret[r]) < 0)
            return -1;
    return 0;
}

int evo_credentials_generate(struct evo_credentials *creds)
{
    memset(creds, 0, sizeof *creds);
    if (!zmq_has("curve")) {
        errno = ENOTSUP;
        return -1;
    }
    if (zmq_curve_keypair(creds->server_public, creds->server_secret) != 0 ||
        zmq_curve_keypair(creds->client_public, creds->client_secret) != 0)
        return -1;
    return 0;
}

static int key_ok(const char *key)
{
    uint8_t bin[32];
    return key && strlen(key) == EVO_KEY_TEXT - 1 && zmq_z85_decode(bin, key) != NULL;
}

/* Reads the variables from `first` on (0: all four, 2: this process's own pair). */
static int credentials_from_env(struct evo_credentials *creds, int first, char *err, size_t err_size)
{
    static const char *names[] = {EVO_VAR_ENDPOINT, EVO_VAR_SERVER_KEY, EVO_VAR_CLIENT_PUBLIC, EVO_VAR_CLIENT_SECRET};
    char *fields[] = {creds->endpoint, creds->server_public, creds->client_public, creds->client_secret};
    size_t sizes[] = {sizeof creds->endpoint, EVO_KEY_TEXT, EVO_KEY_TEXT, EVO_KEY_TEXT};
    memset(creds, 0, sizeof *creds);
    for (int i = first; i < 4; i++) {
        const char *value = getenv(names[i]);
        if (value == NULL || value[0] == '\0') {
            snprintf(err, err_size,
                     "%s is not set: not running inside an evo-farm (use `evo-farm run` or srun "
                     "--evo-farm)",
                     names[i]);
            return -1;
        }
        if (strlen(value) >= sizes[i] || (i > 0 && !key_ok(value))) {
            snprintf(err, err_size, "%s is not a valid %s", names[i], i ? "Z85 CURVE key" : "endpoint");
            return -1;
        }
        strcpy(fields[i], value);
    }
    const char *unix_socket = getenv(EVO_VAR_UNIX_SOCKET);
    if (first == 0 && unix_socket && strlen(unix_socket) < sizeof creds->unix_socket)
        strcpy(creds->unix_socket, unix_socket);
    return 0;
}

int evo_key_pair_from_env(const char *public_name, const char *secret_name, char public_key[EVO_KEY_TEXT],
                          char secret[EVO_KEY_TEXT], char *err, size_t err_size)
{
    const char *names[] = {public_name, secret_name};
    char *fields[] = {public_key, secret};
    for (int i = 0; i < 2; i++) {
        const char *value = getenv(names[i]);
        if (!key_ok(value)) {
            snprintf(err, err_size, "%s is %s", names[i], value ? "not a valid Z85 CURVE key" : "not set");
            return -1;
        }
        strcpy(fields[i], value);
    }
    return 0;
}

int evo_role_keys_from_env(struct evo_role_keys *keys, char *err, size_t err_size)
{
    static const char *const names[][2] = {{EVO_VAR_CLIENT_PUBLIC, EVO_VAR_CLIENT_SECRET},
                                           {EVO_VAR_WORKER_PUBLIC, EVO_VAR_WORKER_SECRET},
                                           {EVO_VAR_NESTED_PUBLIC, EVO_VAR_NESTED_SECRET}};
    for (int r = 0; r < 3; r++)
        if (evo_key_pair_from_env(names[r][0], names[r][1], keys->public_key[r], keys->secret[r], err, err_size) < 0)
            return -1;
    for (int r = EVO_KEY_STATUS; r <= EVO_KEY_CONTROL; r++)
        if (evo_credentials_keypair(keys->public_key[r], keys->secret[r]) < 0) {
            snprintf(err, err_size, "cannot make the %s key: %s", role_names[r], strerror(errno));
            return -1;
        }
    return 0;
}

int evo_credentials_from_env(struct evo_credentials *creds, char *err, size_t err_size)
{
    return credentials_from_env(creds, 0, err, err_size);
}

int evo_credentials_member_from_env(struct evo_credentials *creds, char *err, size_t err_size)
{
    return credentials_from_env(creds, 2, err, err_size);
}

int evo_credentials_to_env(const struct evo_credentials *creds)
{
    if (setenv(EVO_VAR_ENDPOINT, creds->endpoint, 1) || setenv(EVO_VAR_SERVER_KEY, creds->server_public, 1) ||
        setenv(EVO_VAR_CLIENT_PUBLIC, creds->client_public, 1) ||
        setenv(EVO_VAR_CLIENT_SECRET, creds->client_secret, 1))
        return -1;
    return 0;
}
