/*
 * Work that must not hold the event loop (planning 100,000 queued jobs takes
 * tens of milliseconds) runs on a thread of its own; its answer comes back
 * on the loop. One piece of work at a time. work may touch only what its arg
 * owns: nothing else is locked. The thread runs at nice 10: on a busy
 * machine the API's loop (and Postgres) come first, and planning waits.
 */
#ifndef CBQ_UTIL_OFFLOAD_H
#define CBQ_UTIL_OFFLOAD_H

#include <stdbool.h>

struct event_base;
struct offload;

typedef void offload_fn(void *arg);

struct offload *offload_new(struct event_base *base);
/* Waits for work in progress (its done is not called) and frees o. */
void offload_free(struct offload *o);

/* Runs work(arg) on a new thread, then done(arg) from the loop. False
 * (nothing started) when work is already in progress or no thread could be
 * made; the caller may then run it in place. */
bool offload_run(struct offload *o, offload_fn *work, offload_fn *done, void *arg);
bool offload_busy(const struct offload *o);

#endif
