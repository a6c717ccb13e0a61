/*
 * Shared XML plumbing for AWS query-protocol replies (EC2, STS) on libxml2,
 * plus the error-reply parser and the error classifier of AWS.md §1.10/§2.3.
 * Parsing never touches the network, never expands entities and refuses any
 * DTD; elements are found by local name, namespaces ignored. It knows no
 * success shape (ec2.c and sts.c do) and decides no retry timing (the
 * launcher's retry policy does); it only names the class of an error.
 */
#ifndef CBQ_AWS_XML_H
#define CBQ_AWS_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "core/arena.h"
#include "core/err.h"

enum {
	AWS_XML_MAX_REPLY = 8 * 1024 * 1024, /* bytes of any reply we parse */
	AWS_XML_MAX_TEXT = 4096,	     /* default cap on one element's text */
	AWS_XML_EXCERPT = 120,		     /* bytes of a non-XML body shown */
};

/* Parses body (len bytes, need not be NUL-terminated) into *out; free with
 * xmlFreeDoc(). Over AWS_XML_MAX_REPLY is CBQ_ERR_TOO_LARGE; empty, not
 * well-formed, or carrying a DTD is CBQ_ERR_INVALID. The message never quotes
 * the body (a success reply may hold secrets). */
enum cbq_err aws_xml_parse(const char *body, size_t len, xmlDoc **out,
			   struct cbq_error *err) CBQ_MUST_CHECK;

/* The first element child of parent whose local name is name, or NULL. */
xmlNode *aws_xml_child(const xmlNode *parent, const char *name);
/* The next element sibling after n with the same local name, or NULL. */
xmlNode *aws_xml_next(const xmlNode *n);
/* The first element named name at or below node, depth first, or NULL. */
xmlNode *aws_xml_find(xmlNode *node, const char *name);
/* Whether element n's local name is name. */
bool aws_xml_is(const xmlNode *n, const char *name);

/* Copies the text of child `name` of parent into the arena as a C string.
 * Missing child: *out = NULL and CBQ_OK unless required (then
 * CBQ_ERR_INVALID). Text over max bytes (0 = AWS_XML_MAX_TEXT) or containing
 * a NUL is CBQ_ERR_INVALID / CBQ_ERR_TOO_LARGE naming the element. */
enum cbq_err aws_xml_text(const xmlNode *parent, const char *name, bool required, size_t max,
			  struct cbq_arena *a, char **out, struct cbq_error *err) CBQ_MUST_CHECK;
/* Child `name` as a decimal integer in [min, max]; missing: *out = dflt unless
 * required. */
enum cbq_err aws_xml_i64(const xmlNode *parent, const char *name, bool required, int64_t min,
			 int64_t max, int64_t dflt, int64_t *out,
			 struct cbq_error *err) CBQ_MUST_CHECK;
/* Child `name` as "true"/"false"; missing is false. */
enum cbq_err aws_xml_bool(const xmlNode *parent, const char *name, bool *out,
			  struct cbq_error *err) CBQ_MUST_CHECK;
/* Child `name` as an ISO-8601 UTC time ("2026-11-23T11:42:19.000Z", fraction
 * optional, "Z" or "+hh:mm"/"-hh:mm") in Unix seconds, fraction dropped.
 * Missing: *out = 0 unless required. */
enum cbq_err aws_xml_time(const xmlNode *parent, const char *name, bool required, int64_t *out,
			  struct cbq_error *err) CBQ_MUST_CHECK;

/* The same time grammar on a plain string; false when it is not one. */
bool aws_parse_time(const char *s, int64_t *out);

/* What an error reply said. Fixed-size fields, nothing to free. */
struct aws_error_reply {
	long http_status;
	bool xml;	      /* the body was XML with an <Error><Code> */
	char code[128];	      /* bare code ("Client." / "Server." prefix removed), or "" */
	char message[512];    /* AWS's message, control bytes replaced, may be cut */
	char request_id[128]; /* RequestID / RequestId / requestId, or "" */
	char excerpt[AWS_XML_EXCERPT + 1]; /* non-XML body: printable excerpt, or "" */
};

/* Reads any AWS error body: the first <Error> holding a <Code> under
 * whatever wrapper (EC2 <Response><Errors>, STS <ErrorResponse>, moto's
 * <ErrorResponse><Errors>), and the request id. Never fails: a body that is
 * empty, not XML (an HTML 500 page), truncated or oversized gives xml=false,
 * code "" and a short excerpt of printable ASCII (omitted when the body looks
 * like it holds credentials). */
void aws_error_parse(const char *body, size_t len, long http_status, struct aws_error_reply *out);

/* What the caller should do about an error (AWS.md §1.10, §2.3, §11.2). */
enum aws_err_class {
	AWS_ERRCLASS_RETRY,	/* throttling, 5xx, transient, eventual consistency:
				 * back off and resend (same ClientToken) */
	AWS_ERRCLASS_CAPACITY,	/* capacity race lost or block not active yet:
				 * resync, requeue, keep the job's place */
	AWS_ERRCLASS_AUTH,	/* credentials expired or rejected: assume the role
				 * again once, then fail */
	AWS_ERRCLASS_NEW_TOKEN, /* IdempotentInstanceTerminated: next attempt token */
	AWS_ERRCLASS_DRY_RUN,	/* DryRunOperation: the dry run would have succeeded */
	AWS_ERRCLASS_FAIL,	/* fail with AWS's message (permissions, bad request, quota) */
};

/* Classifies by code first: the table's codes keep their class whatever the
 * status. Unknown or missing codes go by HTTP status: 500, 502, 503 and 504
 * retry, anything else fails (a bare 429 too, as in botocore's standard
 * mode). "Client."/"Server." prefixes are ignored; code may be NULL or "". */
enum aws_err_class aws_error_classify(const char *code, long http_status);
const char *aws_err_class_name(enum aws_err_class c);

/* Turns a reply into a cbq_error: "<what>: <Code> (HTTP n): <message>
 * [request <id>]", or for a non-XML body "<what>: HTTP n: <excerpt>". The
 * cbq code follows the class and code (AUTH -> UNAUTHENTICATED, AccessDenied
 * -> FORBIDDEN, RETRY/CAPACITY -> UNAVAILABLE, ...). what names the call and
 * role, e.g. "ec2:RunInstances as arn:aws:iam::1:role/x". Returns the code. */
enum cbq_err aws_error_to_cbq(const struct aws_error_reply *r, const char *what,
			      struct cbq_error *err);

#endif
