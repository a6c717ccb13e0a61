/*
 * The contract between server.c (HTTP, routing, auth, faults) and the
 * service handlers: a decoded, authenticated call in, a struct sim_reply
 * out. Handlers never see libevent's request, never send, and never block.
 */
#ifndef CBQ_AWSSIM_CALL_H
#define CBQ_AWSSIM_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include "params.h"
#include "reply.h"
#include "world.h"

struct sim_call {
	enum sim_service service;
	const char *action;		 /* EC2/STS Action, RAM or Organizations operation */
	const struct sim_params *params; /* EC2 and STS */
	const char *body;		 /* RAM and Organizations: the JSON body */
	size_t body_len;
	struct sim_identity who; /* the verified caller */
	cbq_ms now;
};

/* Whether the service has the action (else InvalidAction and friends). */
bool sim_ec2_known(const char *action);
bool sim_sts_known(const char *action);
bool sim_orgs_known(const char *action);

void sim_ec2_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r);
void sim_sts_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r);
void sim_ram_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r);
void sim_orgs_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r);

/* An unsigned HTTP request (IMDS, control endpoints). */
struct sim_http_in {
	const char *method; /* "GET", "PUT", "POST", "DELETE" */
	const char *path;
	const char *body;
	size_t body_len;
	/* Header lookup, case-insensitive; NULL when absent. */
	const char *(*header)(void *arg, const char *name);
	void *header_arg;
};

void sim_imds_handle(struct sim_world *w, const struct sim_http_in *in, cbq_ms now,
		     struct sim_reply *r);
void sim_control_handle(struct sim_world *w, const struct sim_http_in *in, cbq_ms now,
			struct sim_reply *r);

/* EC2's RunInstances/DescribeInstances/TerminateInstances (ec2_instances.c),
 * called by sim_ec2_handle. */
void sim_ec2_run_instances(struct sim_world *w, const struct sim_call *c, struct sim_reply *r);
void sim_ec2_describe_instances(struct sim_world *w, const struct sim_call *c, struct sim_reply *r);
void sim_ec2_terminate_instances(struct sim_world *w, const struct sim_call *c,
				 struct sim_reply *r);

#endif
