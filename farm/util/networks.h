/* networks.h — the address a broker binds when farm.bind (or a site's
 * bind=) names the networks by preference: interface names and IPv4
 * networks, the first one this node has wins. */
#ifndef EVO_NETWORKS_H
#define EVO_NETWORKS_H

#include <stddef.h>
#include <stdint.h>

struct ifaddrs;

/* Whether entry i of getifaddrs's list is an interface that is up with an
 * IPv4 address: 1 with that address (host byte order) in *address, else
 * 0. The one filter of every reader of this node's addresses. */
int evo_if_ipv4(const struct ifaddrs *i, uint32_t *address);

/* Whether the host part of `bind` ("tcp://HOST:PORTS") is a list of
 * networks ("ib0,eth0", "10.202.0.0/16,eth0") or a network ("A.B.C.D/N"),
 * which evo_bind_resolve turns into one address; 0 for one host ZeroMQ
 * binds itself ("*", an address, an interface name). */
int evo_bind_names_networks(const char *bind);

/* Checks the syntax of `bind` ("tcp://HOST:PORTS", PORTS a number, * or
 * FIRST-LAST; HOST one host or a list of interface names and networks
 * A.B.C.D/N, no "*" in a list). 0, or -1 with why. */
int evo_bind_check(const char *bind, char *why, size_t size);

/* `bind` with its networks replaced by the IPv4 address of the first one
 * this node has (an interface of that name that is up with an IPv4
 * address; an address of this node inside that network), into out;
 * `bind` itself where it names no networks. 0, or -1 with why: none of
 * them is here (the node's interfaces listed), or out is too small. */
int evo_bind_resolve(const char *bind, char *out, size_t size, char *why, size_t why_size);

#endif
