/*
 * The HTTP side of cbq-awssim: one evhttp listener serving EC2 and STS
 * (query protocol on /), RAM (/listresources, /listprincipals),
 * Organizations (X-Amz-Target), IMDS (/latest/…) and the /_sim control
 * endpoints; SigV4 checking, injected faults, delayed or dropped replies,
 * and one log line per request. Plain HTTP, meant for 127.0.0.1.
 */
#ifndef CBQ_AWSSIM_SERVER_H
#define CBQ_AWSSIM_SERVER_H

#include "core/err.h"
#include "util/clock.h"
#include "world.h"

struct event_base;
struct sim_server;

enum { SIM_MAX_BODY = 1024 * 1024 };

/*
 * Listens on host:port (port 0 picks a free one; *bound_port says which)
 * and serves w on base. w and clock must outlive the server. On failure
 * returns the code and fills err; nothing is left listening.
 */
enum cbq_err sim_server_start(struct event_base *base, struct sim_world *w,
			      const struct cbq_clock *clock, const char *host, int port,
			      struct sim_server **out, int *bound_port,
			      struct cbq_error *err) CBQ_MUST_CHECK;
/* Stops listening, drops delayed replies unsent and frees the server. */
void sim_server_free(struct sim_server *s);

#endif
