/*
 * AWS error replies: reading the code and message whatever wraps them, and
 * the classifier of AWS.md §1.10, §2.3 and §11.2; see xml.h. It names a
 * class; how long to wait and how often to try is the retry policy's job.
 */
#include "aws/xml.h"

#include <stdio.h>
#include <string.h>

/* Copies s into dst (size bytes), control bytes and non-ASCII as ' '. */
static void copy_clean(char *dst, size_t size, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 1 < size; s++) {
		unsigned char c = (unsigned char)*s;
		dst[o++] = (c < 0x20 || c > 0x7e) ? ' ' : (char)c;
	}
	dst[o] = '\0';
}

static bool contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (hay[i] == needle[0] && memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

static bool holds_secret(const char *body, size_t len)
{
	static const char *const marks[] = { "SecretAccessKey", "SessionToken", "<Credentials",
					     "secretAccessKey", "sessionToken" };

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++)
		if (contains(body, len, marks[i]))
			return true;
	return false;
}

/* Visible text of the first bytes of body, tags dropped, whitespace folded. */
static void excerpt(const char *body, size_t len, char *dst, size_t size)
{
	size_t o = 0, scan = len < 8192 ? len : 8192;
	bool in_tag = false, space = true;

	if (holds_secret(body, len)) {
		snprintf(dst, size, "(body withheld: it may hold credentials)");
		return;
	}
	for (size_t i = 0; i < scan && o + 1 < size; i++) {
		unsigned char c = (unsigned char)body[i];
		if (c == '<') {
			in_tag = true;
			continue;
		}
		if (in_tag) {
			in_tag = c != '>';
			if (!in_tag && !space)
				dst[o++] = ' ', space = true;
			continue;
		}
		if (c < 0x21 || c > 0x7e) {
			if (!space)
				dst[o++] = ' ', space = true;
			continue;
		}
		dst[o++] = (char)c;
		space = false;
	}
	while (o && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
}

/* The node after n in document order within root's subtree, or NULL. */
static xmlNode *next_preorder(xmlNode *n, const xmlNode *root)
{
	if (n->type == XML_ELEMENT_NODE && n->children)
		return n->children;
	while (n != root && !n->next)
		n = n->parent;
	return n == root ? NULL : n->next;
}

/* The first <Error> element holding a <Code>, anywhere below root. */
static xmlNode *find_error(xmlNode *root)
{
	for (xmlNode *n = root; n; n = next_preorder(n, root))
		if (aws_xml_is(n, "Error") && aws_xml_child(n, "Code"))
			return n;
	return NULL;
}

/* Text of child name of parent into dst, cleaned and cut to size. */
static void child_text(const xmlNode *parent, const char *name, char *dst, size_t size)
{
	xmlNode *n = aws_xml_child(parent, name);
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;

	copy_clean(dst, size, (const char *)t);
	xmlFree(t);
}

void aws_error_parse(const char *body, size_t len, long http_status, struct aws_error_reply *out)
{
	xmlDoc *doc = NULL;
	xmlNode *root, *e, *id;

	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	if (!body || len == 0)
		return;
	if (aws_xml_parse(body, len, &doc, NULL) == CBQ_OK) {
		root = xmlDocGetRootElement(doc);
		e = find_error(root);
		if (e) {
			char code[sizeof(out->code)];
			child_text(e, "Code", code, sizeof(code));
			const char *c = code;
			if (strncmp(c, "Client.", 7) == 0 || strncmp(c, "Server.", 7) == 0)
				c += 7;
			snprintf(out->code, sizeof(out->code), "%s", c);
			child_text(e, "Message", out->message, sizeof(out->message));
			out->xml = out->code[0] != '\0';
		}
		id = aws_xml_find(root, "RequestID");
		if (!id)
			id = aws_xml_find(root, "RequestId");
		if (!id)
			id = aws_xml_find(root, "requestId");
		if (id && id->parent)
			child_text(id->parent, (const char *)id->name, out->request_id,
				   sizeof(out->request_id));
		xmlFreeDoc(doc);
	}
	if (!out->xml)
		excerpt(body, len, out->excerpt, sizeof(out->excerpt));
}

static bool in(const char *code, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

/* AWS.md §11.2 (throttling, transient) and §1.10/§2.3 (5xx-class codes,
 * eventual consistency). */
static const char *const retry_codes[] = { "Throttling",
					   "ThrottlingException",
					   "ThrottledException",
					   "RequestThrottledException",
					   "TooManyRequestsException",
					   "ProvisionedThroughputExceededException",
					   "TransactionInProgressException",
					   "RequestLimitExceeded",
					   "BandwidthLimitExceeded",
					   "LimitExceededException",
					   "RequestThrottled",
					   "SlowDown",
					   "PriorRequestNotComplete",
					   "EC2ThrottledException",
					   "RequestTimeout",
					   "RequestTimeoutException",
					   "InternalError",
					   "InternalFailure",
					   "ServerInternal",
					   "ServiceUnavailable",
					   "Unavailable",
					   "IDPCommunicationError",
					   "InvalidInstanceID.NotFound",
					   NULL };
static const char *const capacity_codes[] = { "InsufficientInstanceCapacity",
					      "InsufficientCapacity", "ReservationCapacityExceeded",
					      "InvalidCapacityReservationState.PendingActivation",
					      NULL };
static const char *const auth_codes[] = { "AuthFailure", "ExpiredToken", "ExpiredTokenException",
					  "RequestExpired", NULL };

/* The table's "fail" rows: they fail whatever the status says. */
static const char *const fail_codes[] = { "UnauthorizedOperation",
					  "AccessDenied",
					  "AccessDeniedException",
					  "InvalidClientTokenId",
					  "SignatureDoesNotMatch",
					  "IncompleteSignature",
					  "MissingAuthenticationToken",
					  "IdempotentParameterMismatch",
					  "InvalidParameterValue",
					  "InvalidParameterCombination",
					  "InvalidParameter",
					  "MissingParameter",
					  "UnknownParameter",
					  "UnsupportedOperation",
					  "Unsupported",
					  "InvalidLaunchTargets",
					  "InvalidCapacityReservationId.NotFound",
					  "InvalidCapacityReservationId.Malformed",
					  "OptInRequired",
					  "Blocked",
					  "PendingVerification",
					  "AccountDisabled",
					  "InstanceLimitExceeded",
					  "VcpuLimitExceeded",
					  "CapacityBlockDescribeLimitExceeded",
					  "InvalidCapacityBlockOfferingIdExpired",
					  "InvalidCapacityBlockOfferingId.Malformed",
					  "InvalidCapacityBlockOfferingId.NotFound",
					  "ValidationError",
					  "MalformedPolicyDocument",
					  "PackedPolicyTooLarge",
					  "RegionDisabledException",
					  NULL };

enum aws_err_class aws_error_classify(const char *code, long http_status)
{
	if (code && *code) {
		if (strncmp(code, "Client.", 7) == 0 || strncmp(code, "Server.", 7) == 0)
			code += 7;
		if (in(code, retry_codes))
			return AWS_ERRCLASS_RETRY;
		if (in(code, capacity_codes))
			return AWS_ERRCLASS_CAPACITY;
		if (in(code, auth_codes))
			return AWS_ERRCLASS_AUTH;
		if (strcmp(code, "IdempotentInstanceTerminated") == 0)
			return AWS_ERRCLASS_NEW_TOKEN;
		if (strcmp(code, "DryRunOperation") == 0)
			return AWS_ERRCLASS_DRY_RUN;
		if (in(code, fail_codes))
			return AWS_ERRCLASS_FAIL;
	}
	/* botocore standard mode: transient statuses; a bare 429 is not retried. */
	if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
		return AWS_ERRCLASS_RETRY;
	return AWS_ERRCLASS_FAIL;
}

const char *aws_err_class_name(enum aws_err_class c)
{
	switch (c) {
	case AWS_ERRCLASS_RETRY: return "retry";
	case AWS_ERRCLASS_CAPACITY: return "capacity";
	case AWS_ERRCLASS_AUTH: return "auth";
	case AWS_ERRCLASS_NEW_TOKEN: return "new_token";
	case AWS_ERRCLASS_DRY_RUN: return "dry_run";
	case AWS_ERRCLASS_FAIL: return "fail";
	}
	return "unknown";
}

static const char *const forbidden_codes[] = { "AccessDenied",
					       "AccessDeniedException",
					       "UnauthorizedOperation",
					       "OptInRequired",
					       "Blocked",
					       "PendingVerification",
					       "AccountDisabled",
					       "RegionDisabledException",
					       NULL };
static const char *const unauthenticated_codes[] = { "InvalidClientTokenId",
						     "SignatureDoesNotMatch", "IncompleteSignature",
						     "MissingAuthenticationToken", NULL };

static enum cbq_err cbq_code_of(const struct aws_error_reply *r, enum aws_err_class cls)
{
	const char *code = r->code;
	size_t n = strlen(code);

	switch (cls) {
	case AWS_ERRCLASS_RETRY:
	case AWS_ERRCLASS_CAPACITY: return CBQ_ERR_UNAVAILABLE;
	case AWS_ERRCLASS_AUTH: return CBQ_ERR_UNAUTHENTICATED;
	case AWS_ERRCLASS_NEW_TOKEN: return CBQ_ERR_CONFLICT;
	case AWS_ERRCLASS_DRY_RUN: return CBQ_OK;
	case AWS_ERRCLASS_FAIL: break;
	}
	if (in(code, forbidden_codes))
		return CBQ_ERR_FORBIDDEN;
	if (in(code, unauthenticated_codes))
		return CBQ_ERR_UNAUTHENTICATED;
	if (strcmp(code, "IdempotentParameterMismatch") == 0)
		return CBQ_ERR_CONFLICT;
	if (n > 9 && strcmp(code + n - 9, ".NotFound") == 0)
		return CBQ_ERR_NOT_FOUND;
	if (!*code)
		return CBQ_ERR_INTERNAL;
	return CBQ_ERR_INVALID;
}

enum cbq_err aws_error_to_cbq(const struct aws_error_reply *r, const char *what,
			      struct cbq_error *err)
{
	enum aws_err_class cls = aws_error_classify(r->code, r->http_status);
	enum cbq_err code = cbq_code_of(r, cls);

	if (code == CBQ_OK)
		return CBQ_OK;
	what = what && *what ? what : "AWS";
	if (r->code[0])
		return cbq_fail(err, code, "", "%s: %s (HTTP %ld): %s%s%s%s", what, r->code,
				r->http_status, r->message[0] ? r->message : "no message",
				r->request_id[0] ? " [request " : "", r->request_id,
				r->request_id[0] ? "]" : "");
	return cbq_fail(err, code, "", "%s: HTTP %ld with %s%s%s", what, r->http_status,
			r->excerpt[0] ? "a non-AWS body: " : "an empty or unreadable body",
			r->excerpt[0] ? r->excerpt : "", "");
}
