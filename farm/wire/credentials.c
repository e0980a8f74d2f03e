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

/* Reads the variables from `first` on (0: all four, 2: the member pair). */
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
    const char *local = getenv(EVO_VAR_LOCAL);
    if (first == 0 && local && strlen(local) < sizeof creds->local)
        strcpy(creds->local, local);
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
