/*
 * Parsers for EC2's XML replies (AWS.md §1.2-§1.8); see ec2.h. By local
 * element name, namespace and element order ignored, unknown elements
 * skipped. Error bodies are not handled here: aws_error_parse() reads them.
 */
#include "aws/ec2.h"

#include <stddef.h>
#include <string.h>

#include "aws/xml.h"

/* A string member of a parsed struct, filled from a same-level element. */
struct text_field {
	const char *name;
	size_t offset;
	size_t max; /* 0: AWS_XML_MAX_TEXT */
};

static enum cbq_err text_fields(const xmlNode *parent, const struct text_field *f, size_t n,
				void *dst, struct cbq_arena *a, struct cbq_error *err)
{
	for (size_t i = 0; i < n; i++) {
		char **slot = (char **)((char *)dst + f[i].offset);
		enum cbq_err rc = aws_xml_text(parent, f[i].name, false, f[i].max, a, slot, err);
		if (rc)
			return rc;
	}
	return CBQ_OK;
}

/* Opens a reply whose root must be <root>. */
static enum cbq_err open_reply(const char *body, size_t len, const char *root, xmlDoc **doc,
			       xmlNode **top, struct cbq_error *err)
{
	enum cbq_err rc = aws_xml_parse(body, len, doc, err);

	if (rc)
		return rc;
	*top = xmlDocGetRootElement(*doc);
	if (!aws_xml_is(*top, root)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "", "AWS reply is <%s>, expected <%s>",
			      (const char *)(*top)->name, root);
		xmlFreeDoc(*doc);
		*doc = NULL;
	}
	return rc;
}

/* The <item> children of parent/<set>, counted against limit. */
static enum cbq_err count_items(const xmlNode *parent, const char *set, size_t *n, size_t limit,
				struct cbq_error *err)
{
	const xmlNode *s = aws_xml_child(parent, set);

	for (xmlNode *it = aws_xml_child(s, "item"); it; it = aws_xml_next(it))
		if (++*n > limit)
			return cbq_fail(err, CBQ_ERR_TOO_LARGE, set,
					"AWS reply lists over %zu entries", limit);
	return CBQ_OK;
}

/* nextToken (empty means none) and requestId of the root. */
static enum cbq_err paging(const xmlNode *top, struct cbq_arena *a, char **next, char **req,
			   struct cbq_error *err)
{
	enum cbq_err rc;

	if (next) {
		rc = aws_xml_text(top, "nextToken", false, AWS_EC2_MAX_TOKEN_LEN, a, next, err);
		if (rc)
			return rc;
		if (*next && !**next)
			*next = NULL;
	}
	return aws_xml_text(top, "requestId", false, 256, a, req, err);
}

static enum cbq_err tags(const xmlNode *parent, struct cbq_arena *a, struct aws_tag_list *out,
			 struct cbq_error *err)
{
	size_t n = 0;
	enum cbq_err rc = count_items(parent, "tagSet", &n, AWS_EC2_MAX_TAGS * 4, err);

	if (rc || !n)
		return rc;
	out->items = cbq_arena_alloc(a, n, sizeof(*out->items));
	for (xmlNode *it = aws_xml_child(aws_xml_child(parent, "tagSet"), "item"); it;
	     it = aws_xml_next(it)) {
		char *k, *v;
		if ((rc = aws_xml_text(it, "key", true, 128, a, &k, err)) ||
		    (rc = aws_xml_text(it, "value", false, 256, a, &v, err)))
			return rc;
		out->items[out->n++] = (struct aws_tag){ .key = k, .value = v ? v : "" };
	}
	return CBQ_OK;
}

/* ---- DescribeCapacityReservations */

#define CR(name, member)                                     \
	{                                                    \
		name, offsetof(struct aws_ec2_cr, member), 0 \
	}
static const struct text_field cr_text[] = {
	CR("capacityReservationId", id),
	CR("ownerId", owner_id),
	CR("capacityReservationArn", arn),
	CR("availabilityZone", az),
	CR("availabilityZoneId", az_id),
	CR("instanceType", instance_type),
	CR("instancePlatform", platform),
	CR("tenancy", tenancy),
	CR("state", state),
	CR("endDateType", end_date_type),
	CR("instanceMatchCriteria", match_criteria),
	CR("reservationType", reservation_type),
	CR("capacityBlockId", capacity_block_id),
};
#undef CR

static enum cbq_err one_cr(const xmlNode *it, struct cbq_arena *a, struct aws_ec2_cr *cr,
			   struct cbq_error *err)
{
	enum cbq_err rc;

	if ((rc = text_fields(it, cr_text, sizeof(cr_text) / sizeof(cr_text[0]), cr, a, err)) ||
	    (rc = aws_xml_i64(it, "totalInstanceCount", false, 0, INT32_MAX, 0, &cr->total, err)) ||
	    (rc = aws_xml_i64(it, "availableInstanceCount", false, 0, INT32_MAX, 0, &cr->available,
			      err)) ||
	    (rc = aws_xml_time(it, "startDate", false, &cr->start, err)) ||
	    (rc = aws_xml_time(it, "endDate", false, &cr->end, err)) ||
	    (rc = aws_xml_time(it, "createDate", false, &cr->created, err)) ||
	    (rc = tags(it, a, &cr->tags, err)))
		return rc;
	if (!cr->id)
		return cbq_fail(err, CBQ_ERR_INVALID, "capacityReservationId",
				"capacity reservation without capacityReservationId");
	return CBQ_OK;
}

enum cbq_err aws_ec2_parse_describe_crs(const char *body, size_t len, struct aws_ec2_crs *out,
					struct cbq_error *err)
{
	struct aws_ec2_crs v = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *top;
	size_t n = 0;
	enum cbq_err rc;

	if ((rc = open_reply(body, len, "DescribeCapacityReservationsResponse", &doc, &top, err)))
		goto out;
	if ((rc = count_items(top, "capacityReservationSet", &n, AWS_EC2_MAX_ITEMS, err)))
		goto out;
	v.items = cbq_arena_alloc(&v.arena, n, sizeof(*v.items));
	for (xmlNode *it = aws_xml_child(aws_xml_child(top, "capacityReservationSet"), "item"); it;
	     it = aws_xml_next(it))
		if ((rc = one_cr(it, &v.arena, &v.items[v.n++], err)))
			goto out;
	if ((rc = paging(top, &v.arena, &v.next_token, &v.request_id, err)))
		goto out;
	*out = v;
	v = (struct aws_ec2_crs){ 0 };
out:
	aws_ec2_crs_free(&v);
	xmlFreeDoc(doc);
	return rc;
}

void aws_ec2_crs_free(struct aws_ec2_crs *v)
{
	if (!v)
		return;
	cbq_arena_free(&v->arena);
	memset(v, 0, sizeof(*v));
}

/* ---- GetCapacityReservationUsage */

enum cbq_err aws_ec2_parse_cr_usage(const char *body, size_t len, struct aws_ec2_cr_usage *out,
				    struct cbq_error *err)
{
	static const struct text_field fields[] = {
		{ "capacityReservationId", offsetof(struct aws_ec2_cr_usage, id), 0 },
		{ "instanceType", offsetof(struct aws_ec2_cr_usage, instance_type), 0 },
		{ "state", offsetof(struct aws_ec2_cr_usage, state), 0 },
	};
	struct aws_ec2_cr_usage v = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *top;
	size_t n = 0;
	enum cbq_err rc;

	if ((rc = open_reply(body, len, "GetCapacityReservationUsageResponse", &doc, &top, err)) ||
	    (rc = text_fields(top, fields, 3, &v, &v.arena, err)) ||
	    (rc = aws_xml_i64(top, "totalInstanceCount", false, 0, INT32_MAX, 0, &v.total, err)) ||
	    (rc = aws_xml_i64(top, "availableInstanceCount", false, 0, INT32_MAX, 0, &v.available,
			      err)) ||
	    (rc = count_items(top, "instanceUsageSet", &n, AWS_EC2_MAX_ITEMS, err)))
		goto out;
	v.items = cbq_arena_alloc(&v.arena, n, sizeof(*v.items));
	for (xmlNode *it = aws_xml_child(aws_xml_child(top, "instanceUsageSet"), "item"); it;
	     it = aws_xml_next(it)) {
		struct aws_ec2_account_usage *u = &v.items[v.n++];
		if ((rc = aws_xml_text(it, "accountId", true, 64, &v.arena, &u->account_id, err)) ||
		    (rc = aws_xml_i64(it, "usedInstanceCount", false, 0, INT32_MAX, 0, &u->used,
				      err)))
			goto out;
	}
	if ((rc = paging(top, &v.arena, &v.next_token, &v.request_id, err)))
		goto out;
	*out = v;
	v = (struct aws_ec2_cr_usage){ 0 };
out:
	aws_ec2_cr_usage_free(&v);
	xmlFreeDoc(doc);
	return rc;
}

void aws_ec2_cr_usage_free(struct aws_ec2_cr_usage *v)
{
	if (!v)
		return;
	cbq_arena_free(&v->arena);
	memset(v, 0, sizeof(*v));
}

/* ---- RunInstances, DescribeInstances */

#define IN(name, member)                                           \
	{                                                          \
		name, offsetof(struct aws_ec2_instance, member), 0 \
	}
static const struct text_field instance_text[] = {
	IN("instanceId", id),
	IN("instanceType", instance_type),
	IN("clientToken", client_token),
	IN("instanceLifecycle", lifecycle),
	IN("capacityReservationId", capacity_reservation_id),
	IN("subnetId", subnet_id),
	IN("privateIpAddress", private_ip),
};
#undef IN

/* instanceState-like element: code (low byte) and name. */
static enum cbq_err state(const xmlNode *parent, const char *name, struct cbq_arena *a, int *code,
			  char **state_name, struct cbq_error *err)
{
	const xmlNode *s = aws_xml_child(parent, name);
	int64_t c;
	enum cbq_err rc;

	*code = -1;
	*state_name = NULL;
	if (!s)
		return CBQ_OK;
	if ((rc = aws_xml_i64(s, "code", false, 0, 0xFFFF, -1, &c, err)) ||
	    (rc = aws_xml_text(s, "name", false, 64, a, state_name, err)))
		return rc;
	*code = c < 0 ? -1 : (int)(c & 0xFF);
	return CBQ_OK;
}

static enum cbq_err one_instance(const xmlNode *it, char *res_id, char *owner, struct cbq_arena *a,
				 struct aws_ec2_instance *in, struct cbq_error *err)
{
	enum cbq_err rc;
	size_t n = sizeof(instance_text) / sizeof(instance_text[0]);

	in->reservation_id = res_id;
	in->owner_id = owner;
	if ((rc = text_fields(it, instance_text, n, in, a, err)) ||
	    (rc = aws_xml_text(aws_xml_child(it, "placement"), "availabilityZone", false, 64, a,
			       &in->az, err)) ||
	    (rc = aws_xml_text(aws_xml_child(it, "stateReason"), "message", false, 0, a,
			       &in->state_reason, err)) ||
	    (rc = state(it, "instanceState", a, &in->state_code, &in->state_name, err)) ||
	    (rc = aws_xml_time(it, "launchTime", false, &in->launch_time, err)) ||
	    (rc = tags(it, a, &in->tags, err)))
		return rc;
	if (!in->id)
		return cbq_fail(err, CBQ_ERR_INVALID, "instanceId", "instance without instanceId");
	return CBQ_OK;
}

/* Appends the instances of one reservation element (or RunInstances root). */
static enum cbq_err reservation(const xmlNode *r, struct aws_ec2_instances *v,
				struct cbq_error *err)
{
	char *res_id, *owner;
	enum cbq_err rc;

	if ((rc = aws_xml_text(r, "reservationId", false, 64, &v->arena, &res_id, err)) ||
	    (rc = aws_xml_text(r, "ownerId", false, 64, &v->arena, &owner, err)))
		return rc;
	for (xmlNode *it = aws_xml_child(aws_xml_child(r, "instancesSet"), "item"); it;
	     it = aws_xml_next(it))
		if ((rc = one_instance(it, res_id, owner, &v->arena, &v->items[v->n++], err)))
			return rc;
	return CBQ_OK;
}

static enum cbq_err parse_instances(const char *body, size_t len, bool run,
				    struct aws_ec2_instances *out, struct cbq_error *err)
{
	struct aws_ec2_instances v = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *top, *set = NULL;
	size_t n = 0;
	enum cbq_err rc;

	rc = open_reply(body, len, run ? "RunInstancesResponse" : "DescribeInstancesResponse", &doc,
			&top, err);
	if (rc)
		goto out;
	if (run) {
		rc = count_items(top, "instancesSet", &n, AWS_EC2_MAX_ITEMS, err);
	} else {
		set = aws_xml_child(top, "reservationSet");
		for (xmlNode *r = aws_xml_child(set, "item"); r && !rc; r = aws_xml_next(r))
			rc = count_items(r, "instancesSet", &n, AWS_EC2_MAX_ITEMS, err);
	}
	if (rc)
		goto out;
	v.items = cbq_arena_alloc(&v.arena, n, sizeof(*v.items));
	if (run)
		rc = reservation(top, &v, err);
	for (xmlNode *r = aws_xml_child(set, "item"); r && !rc; r = aws_xml_next(r))
		rc = reservation(r, &v, err);
	if (rc || (rc = paging(top, &v.arena, run ? NULL : &v.next_token, &v.request_id, err)))
		goto out;
	*out = v;
	v = (struct aws_ec2_instances){ 0 };
out:
	aws_ec2_instances_free(&v);
	xmlFreeDoc(doc);
	return rc;
}

enum cbq_err aws_ec2_parse_run_instances(const char *body, size_t len,
					 struct aws_ec2_instances *out, struct cbq_error *err)
{
	return parse_instances(body, len, true, out, err);
}

enum cbq_err aws_ec2_parse_describe_instances(const char *body, size_t len,
					      struct aws_ec2_instances *out, struct cbq_error *err)
{
	return parse_instances(body, len, false, out, err);
}

void aws_ec2_instances_free(struct aws_ec2_instances *v)
{
	if (!v)
		return;
	cbq_arena_free(&v->arena);
	memset(v, 0, sizeof(*v));
}

/* ---- TerminateInstances */

enum cbq_err aws_ec2_parse_terminate(const char *body, size_t len, struct aws_ec2_terminated *out,
				     struct cbq_error *err)
{
	struct aws_ec2_terminated v = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *top;
	size_t n = 0;
	enum cbq_err rc;

	if ((rc = open_reply(body, len, "TerminateInstancesResponse", &doc, &top, err)) ||
	    (rc = count_items(top, "instancesSet", &n, AWS_EC2_MAX_ITEMS, err)))
		goto out;
	v.items = cbq_arena_alloc(&v.arena, n, sizeof(*v.items));
	for (xmlNode *it = aws_xml_child(aws_xml_child(top, "instancesSet"), "item"); it;
	     it = aws_xml_next(it)) {
		struct aws_ec2_state_change *s = &v.items[v.n++];
		if ((rc = aws_xml_text(it, "instanceId", true, AWS_EC2_MAX_ID_LEN, &v.arena, &s->id,
				       err)) ||
		    (rc = state(it, "currentState", &v.arena, &s->current_code, &s->current_name,
				err)) ||
		    (rc = state(it, "previousState", &v.arena, &s->previous_code, &s->previous_name,
				err)))
			goto out;
	}
	if ((rc = paging(top, &v.arena, NULL, &v.request_id, err)))
		goto out;
	*out = v;
	v = (struct aws_ec2_terminated){ 0 };
out:
	aws_ec2_terminated_free(&v);
	xmlFreeDoc(doc);
	return rc;
}

void aws_ec2_terminated_free(struct aws_ec2_terminated *v)
{
	if (!v)
		return;
	cbq_arena_free(&v->arena);
	memset(v, 0, sizeof(*v));
}
