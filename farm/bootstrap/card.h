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

/* Endpoints "tcp://A:port" for every network, non-loopback first, none
 * for a link-local address (169.254/16). 0, or -1 if they do not fit in
 * out. */
int evo_card_endpoints(const struct evo_net *nets, size_t count, unsigned port, char *out, size_t size);

/* The endpoints to publish for a broker bound at `bound` (ZeroMQ's last
 * endpoint, "tcp://A.B.C.D:PORT"): that one alone when the broker bound
 * one address (farm.bind names it), every network's as
 * evo_card_endpoints gives them when it bound 0.0.0.0. 0, or -1 if they do
 * not fit in out. */
int evo_card_endpoints_bound(const char *bound, const struct evo_net *nets, size_t count, char *out, size_t size);

/* Card text <-> struct. Parsing returns 0, or -1 if the text is not a card. */
int evo_card_format(const struct evo_card *card, char *out, size_t size);
int evo_card_parse(const char *text, struct evo_card *card);

/* The ranks of evo_card_order past the usable ones: one of the peer's own
 * addresses seen from another host, then loopback seen from another host. */
#define EVO_CARD_RANK_OWN  2
#define EVO_CARD_RANK_LAST 3

/* The comma-separated endpoints, best first for a peer with networks nets,
 * on the broker's host or not (same_host), keeping those ranked up to
 * max_rank: on the broker's host its loopback, then its other addresses;
 * elsewhere an address in one of the peer's networks, then another
 * routable one, then (EVO_CARD_RANK_OWN) one of the peer's own, then
 * (EVO_CARD_RANK_LAST) loopback; never a link-local one. Endpoints of one
 * rank keep their order. 0, or -1 if they do not fit in out. Pure. */
int evo_card_order(const char *endpoints, int same_host, const struct evo_net *nets, size_t count, int max_rank,
                   char *out, size_t size);

/* evo_card_order for this process's host and networks, keeping every
 * usable rank: the order in which `evo-farm status` and `drain` try a
 * farm's endpoints (broker_host NULL or "" when unknown). */
int evo_card_order_here(const char *endpoints, const char *broker_host, char *out, size_t size);

/* Picks the endpoint a task on host my_host with networks nets should
 * connect to, the first of evo_card_order up to EVO_CARD_RANK_OWN: on the
 * broker's host its loopback, else its bound address; elsewhere the first
 * endpoint in one of my networks, else the first routable one, one of my
 * own addresses only when the card has nothing else (an address every
 * node has, such as docker0's, leads back to this node), never a
 * link-local one nor loopback. 0, or -1 when the card has no usable
 * endpoint. */
int evo_card_choose(const struct evo_card *card, const char *my_host, const struct evo_net *nets, size_t count,
                    char *out, size_t size);

#endif
