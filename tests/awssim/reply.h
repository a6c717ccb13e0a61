/*
 * Building replies: an XML writer with escaping (EC2 and STS bodies), JSON
 * bodies (RAM, Organizations, IMDS, control), and each service's error shape
 * (AWS.md §1.10 EC2 <Response><Errors>, §2.3 STS <ErrorResponse>, §8.4 / §9.5
 * JSON with x-amzn-ErrorType). It fills a struct sim_reply; server.c sends it.
 */
#ifndef CBQ_AWSSIM_REPLY_H
#define CBQ_AWSSIM_REPLY_H

#include <jansson.h>
#include <stdbool.h>

#include "core/err.h"
#include "core/job.h"

struct evbuffer;

enum sim_service {
	SIM_SVC_EC2,
	SIM_SVC_STS,
	SIM_SVC_RAM,
	SIM_SVC_ORGS,
	SIM_SVC_IMDS,
	SIM_SVC_CONTROL
};

struct sim_reply {
	int status;
	char content_type[64];
	struct evbuffer *body;
	char code[96];		/* error code for the log; "" on success */
	bool error_type_header; /* send x-amzn-ErrorType: code */
	char request_id[37];
	struct {
		char name[48];
		char value[64];
	} extra[2]; /* more headers to send */
	size_t n_extra;
};

/* Allocates the body (aborts when out of memory); status 200. */
void sim_reply_init(struct sim_reply *r, const char *request_id);
/* Empties the body for a different reply. */
void sim_reply_reset(struct sim_reply *r);
void sim_reply_free(struct sim_reply *r);

void sim_xml_open(struct sim_reply *r, const char *tag);
void sim_xml_close(struct sim_reply *r, const char *tag);
void sim_xml_empty(struct sim_reply *r, const char *tag);
void sim_xml_text(struct sim_reply *r, const char *tag, const char *text);
void sim_xml_textf(struct sim_reply *r, const char *tag, const char *fmt, ...) CBQ_PRINTF(3, 4);
void sim_xml_int(struct sim_reply *r, const char *tag, long long v);
void sim_xml_bool(struct sim_reply *r, const char *tag, bool v);
/* EC2 timestamp "2026-11-23T08:00:00.000Z". */
void sim_xml_time(struct sim_reply *r, const char *tag, cbq_ms t);

/* <ActionResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>… */
void sim_ec2_begin(struct sim_reply *r, const char *action);
void sim_ec2_end(struct sim_reply *r, const char *action);
/* <ActionResponse xmlns="https://sts…"><ActionResult> … </ActionResult><ResponseMetadata>… */
void sim_sts_begin(struct sim_reply *r, const char *action);
void sim_sts_end(struct sim_reply *r, const char *action);

void sim_ec2_error(struct sim_reply *r, int status, const char *code, const char *fmt, ...)
	CBQ_PRINTF(4, 5);
void sim_sts_error(struct sim_reply *r, int status, const char *code, const char *fmt, ...)
	CBQ_PRINTF(4, 5);
/* {"__type": code, "message" or "Message": …} with x-amzn-ErrorType. RAM
 * (rest-json) uses "message", Organizations (JSON 1.1) "Message". */
void sim_json_error(struct sim_reply *r, enum sim_service svc, int status, const char *code,
		    const char *fmt, ...) CBQ_PRINTF(5, 6);
/* The error shape of svc. */
void sim_reply_error(struct sim_reply *r, enum sim_service svc, int status, const char *code,
		     const char *message);
/* A bare status with an HTML body, like a load balancer's 500. */
void sim_reply_html(struct sim_reply *r, int status);
/* Sets a JSON body (doc is consumed) with the service's content type. */
void sim_reply_json(struct sim_reply *r, enum sim_service svc, int status, json_t *doc);
/* Adds a header to send (at most two; values are truncated to 63 bytes). */
void sim_reply_header(struct sim_reply *r, const char *name, const char *value);
/* Plain text body (IMDS). */
void sim_reply_text(struct sim_reply *r, int status, const char *text);

#endif
