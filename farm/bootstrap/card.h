/* card.h — the one record rank 0 publishes so that every other task of a
 * step can join its broker: "HOST KEY ENDPOINT[,ENDPOINT...]" with the
 * broker's host name, its CURVE public key and one tcp:// endpoint per IPv4
 * address of its node, loopback last. Choosing which endpoint to connect to
 * is a pure function of the card and this node's networks, so it is tested
 * without a network. */
#ifndef EVO_CARD_H
#define EVO_CARD_H

#include <stddef.h>
#include <stdint.h>

#include "util/names.h" /* EVO_KEY_TEXT */

#define EVO_CARD_MAX 2048
#define EVO_CARD_KEY "evo-farm.card"

struct evo_card {
    char host[EVO_HOST_MAX + 1];
    char server_public[EVO_KEY_TEXT];
    char endpoints[EVO_CARD_MAX]; /* comma-separated */
};

/* An IPv4 network of this node (host byte order). */
struct evo_net {
    uint32_t address, netmask;
};

/* The IPv4 networks of this node's interfaces that are up, into nets (at
 * most max). Returns the count, or -1 with errno. */
int evo_card_local_nets(struct evo_net *nets, size_t max);

/* Endpoints "tcp://A:port" for every network, non-loopback first. 0, or
 * -1 if they do not fit in out. */
int evo_card_endpoints(const struct evo_net *nets, size_t count, unsigned port, char *out, size_t size);

/* Card text <-> struct. Parsing returns 0, or -1 if the text is not a card. */
int evo_card_format(const struct evo_card *card, char *out, size_t size);
int evo_card_parse(const char *text, struct evo_card *card);

/* Picks the endpoint a task on host my_host with networks nets should
 * connect to: loopback when on the broker's host, else the first endpoint in
 * one of my networks, else the first non-loopback one. 0, or -1 when the
 * card has no usable endpoint. */
int evo_card_choose(const struct evo_card *card, const char *my_host, const struct evo_net *nets, size_t count,
                    char *out, size_t size);

#endif
