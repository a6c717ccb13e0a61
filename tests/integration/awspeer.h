/*
 * AWS peers for integration tests: cbq-awssim (always; built with the tree)
 * and moto_server (when it is on PATH), started on free loopback ports,
 * stopped by h_cleanup(). Plus plain-HTTP JSON requests for their control
 * endpoints. Test code: blocks freely.
 */
#ifndef CBQ_TESTS_AWSPEER_H
#define CBQ_TESTS_AWSPEER_H

#include <jansson.h>

#include "harness.h"

/* A file under the source tree's tests/ (static buffer, until next call). */
const char *h_test_file(const char *relpath);

/* Starts build/bin/cbq-awssim with the scenario (a path) and clock spec
 * (NULL: its default) and waits until GET /_sim/state answers. */
struct h_proc *h_awssim_start(const char *scenario, const char *clock);

/* Starts moto_server from PATH and waits until it answers; NULL (after
 * printing one line saying so) when moto_server is not installed. */
struct h_proc *h_moto_start(void);

/* GET /_sim/state of a cbq-awssim (caller decrefs). */
json_t *h_awssim_state(const struct h_proc *sim);

/* GET or POST (body: JSON text, or NULL) url; returns the parsed JSON reply
 * (caller decrefs) and *status; fails the test when there is no reply or it
 * is not JSON. */
json_t *h_json(const char *method, const char *url, const char *body, long *status);

#endif
