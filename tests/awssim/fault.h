/*
 * Injected faults (POST /_sim/fault): for the next N calls of an action
 * (optionally from one account) reply with an error code or a bare HTTP
 * status, and/or delay the reply; with "after" the action takes effect first
 * and only the reply is replaced, delayed or dropped (a lost response). This
 * module only stores and matches faults; server.c applies them.
 */
#ifndef CBQ_AWSSIM_FAULT_H
#define CBQ_AWSSIM_FAULT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

enum {
	SIM_MAX_FAULTS = 64,
	SIM_MAX_FAULT_TIMES = 1000,
	SIM_MAX_FAULT_DELAY_MS = 120000,
};

struct sim_fault {
	char action[48];  /* "RunInstances", "AssumeRole", "ListPrincipals", …, or "*" */
	char account[13]; /* "" for any caller */
	char code[96];	  /* error code; "" for none */
	char message[256];
	int status;   /* HTTP status; 0: the code's usual one (or 500) */
	int delay_ms; /* added before the reply is sent */
	int remaining;
	bool after; /* perform the action, then fault the reply */
	bool drop;  /* with after: close the connection without a reply */
};

struct sim_faults {
	struct sim_fault v[SIM_MAX_FAULTS];
	size_t n;
};

/* Parses one fault from the JSON body of POST /_sim/fault and appends it. */
enum cbq_err sim_faults_add_json(struct sim_faults *f, json_t *j,
				 struct cbq_error *err) CBQ_MUST_CHECK;
/* Finds the first fault for action and account with times left, uses one
 * up (removing it at zero) and copies it to *out. */
bool sim_faults_take(struct sim_faults *f, const char *action, const char *account,
		     struct sim_fault *out);
void sim_faults_clear(struct sim_faults *f);
/* A new JSON array describing the pending faults. */
json_t *sim_faults_json(const struct sim_faults *f);
/* The HTTP status AWS uses for a code (RequestLimitExceeded 503, Throttling
 * 400, InsufficientInstanceCapacity 500, …); 400 when unknown. */
int sim_fault_status_for(const char *code);

#endif
