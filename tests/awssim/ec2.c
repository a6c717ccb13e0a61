/*
 * EC2 over the query protocol: dispatch, the shared list/filter/paging
 * helpers, DescribeCapacityReservations (the owner sees its blocks; a
 * consumer sees blocks shared with it, total and available only) and
 * GetCapacityReservationUsage (owner only). Instances are ec2_instances.c.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_common.h"
#include "simutil.h"

bool sim_ec2_filters(const struct sim_params *p, const char *const *allowed, struct sim_filters *f,
		     struct sim_reply *r)
{
	f->n = 0;
	for (size_t i = 1;; i++) {
		const char *name = sim_params_getf(p, "Filter.%zu.Name", i);
		if (!name)
			break;
		if (f->n == SIM_MAX_FILTERS) {
			sim_ec2_error(r, 400, "FilterLimitExceeded",
				      "The maximum number of filters (%d) has been exceeded.",
				      SIM_MAX_FILTERS);
			return false;
		}
		bool ok = false;
		for (size_t k = 0; allowed[k] && !ok; k++) {
			size_t n = strlen(allowed[k]);
			ok = allowed[k][n - 1] == ':' ?
				     strncmp(name, allowed[k], n) == 0 && name[n] :
				     strcmp(name, allowed[k]) == 0;
		}
		if (!ok) {
			sim_ec2_error(r, 400, "InvalidParameterValue",
				      "The filter '%.128s' is invalid", name);
			return false;
		}
		struct sim_filter *x = &f->v[f->n++];
		x->name = name;
		x->n = 0;
		for (size_t j = 1;; j++) {
			const char *v = sim_params_getf(p, "Filter.%zu.Value.%zu", i, j);
			if (!v)
				break;
			if (x->n == SIM_MAX_FILTER_VALUES) {
				sim_ec2_error(r, 400, "FilterLimitExceeded",
					      "The maximum number of filter values (%d) has been "
					      "exceeded.",
					      SIM_MAX_FILTER_VALUES);
				return false;
			}
			x->values[x->n++] = v;
		}
	}
	return true;
}

bool sim_filter_match(const struct sim_filter *f, const char *value)
{
	for (size_t i = 0; i < f->n; i++)
		if (fnmatch(f->values[i], value ? value : "", 0) == 0)
			return true;
	return false;
}

long sim_ec2_list(const struct sim_params *p, const char *prefix, const char **out,
		  struct sim_reply *r)
{
	long n = 0;

	for (size_t i = 1;; i++) {
		const char *v = sim_params_getf(p, "%s.%zu", prefix, i);
		if (!v)
			return n;
		if (n == SIM_MAX_LIST) {
			sim_ec2_error(r, 400, "InvalidParameterValue",
				      "At most %d values may be given for %s", SIM_MAX_LIST,
				      prefix);
			return -1;
		}
		out[n++] = v;
	}
}

void sim_ec2_token(const char *kind, size_t offset, char *out, size_t size)
{
	sim_page_token(kind, offset, out, size);
}

bool sim_ec2_int(const char *name, const char *v, long lo, long hi, long *out, struct sim_reply *r)
{
	char *end;
	long x = v && *v && strlen(v) < 12 ? strtol(v, &end, 10) : 0;

	if (!v || !*v || strlen(v) >= 12 || *end || x < lo || x > hi) {
		sim_ec2_error(r, 400, "InvalidParameterValue",
			      "Value (%.32s) for parameter %s is invalid. Expected an integer "
			      "between %ld and %ld.",
			      v ? v : "", name, lo, hi);
		return false;
	}
	*out = x;
	return true;
}

bool sim_ec2_paging(const struct sim_params *p, const char *kind, long lo, long hi,
		    long *max_results, size_t *offset, struct sim_reply *r)
{
	const char *m = sim_params_get(p, "MaxResults"), *t = sim_params_get(p, "NextToken");

	*max_results = hi;
	*offset = 0;
	if (m && !sim_ec2_int("maxResults", m, lo, hi, max_results, r))
		return false;
	if (t && *t && !sim_page_parse(kind, t, offset)) {
		sim_ec2_error(r, 400, "InvalidNextToken", "The specified token is invalid");
		return false;
	}
	return true;
}

bool sim_ec2_dry_run(const struct sim_params *p, struct sim_reply *r)
{
	const char *d = sim_params_get(p, "DryRun");

	if (!d || strcmp(d, "true") != 0)
		return false;
	sim_ec2_error(r, 412, "DryRunOperation",
		      "Request would have succeeded, but DryRun flag is set.");
	return true;
}

static bool cr_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n >= 11 && n <= 35 && strncmp(id, "cr-", 3) == 0 &&
	       strspn(id + 3, "0123456789abcdef") == n - 3;
}

/* "us-east-1" + "us-east-1b" -> "use1-az2", the shape of real AZ ids. */
static const char *az_id(const char *region, const char *az, char *out, size_t size)
{
	char a[8] = "", b[8] = "", d[8] = "";

	if (sscanf(region, "%7[a-z]-%7[a-z]-%7[0-9]", a, b, d) != 3)
		snprintf(out, size, "%s-az1", region);
	else
		snprintf(out, size, "%s%c%s-az%d", a, b[0], d, az[strlen(az) - 1] - 'a' + 1);
	return out;
}

static void render_block(const struct sim_world *w, size_t b, const struct sim_call *c,
			 struct sim_reply *r)
{
	const struct sim_block *blk = &w->sc->blocks[b];
	bool owner = strcmp(blk->owner, c->who.account) == 0;

	sim_xml_open(r, "item");
	sim_xml_text(r, "capacityReservationId", blk->id);
	sim_xml_text(r, "ownerId", blk->owner);
	sim_xml_textf(r, "capacityReservationArn", "arn:aws:ec2:%s:%s:capacity-reservation/%s",
		      w->sc->region, blk->owner, blk->id);
	char azid[48];
	sim_xml_text(r, "availabilityZoneId", az_id(w->sc->region, blk->az, azid, sizeof(azid)));
	sim_xml_text(r, "instanceType", blk->instance_type);
	sim_xml_text(r, "instancePlatform", blk->platform);
	sim_xml_text(r, "availabilityZone", blk->az);
	sim_xml_text(r, "tenancy", "default");
	sim_xml_int(r, "totalInstanceCount", blk->count);
	sim_xml_int(r, "availableInstanceCount", sim_block_available(w, b, c->now));
	sim_xml_bool(r, "ebsOptimized", true);
	sim_xml_bool(r, "ephemeralStorage", false);
	sim_xml_text(r, "state", sim_block_state(w, b, c->now));
	sim_xml_time(r, "startDate", blk->start);
	sim_xml_time(r, "endDate", blk->end);
	sim_xml_text(r, "endDateType", "limited");
	sim_xml_text(r, "instanceMatchCriteria", "targeted");
	sim_xml_time(r, "createDate", blk->created);
	sim_xml_text(r, "reservationType", "capacity-block");
	sim_xml_textf(r, "capacityBlockId", "cb-%s", blk->id + 3);
	sim_xml_text(r, "deliveryPreference", "fixed");
	/* What only the owner sees: its tags and the usage breakdown. */
	if (owner) {
		sim_xml_open(r, "tagSet");
		for (size_t i = 0; i < blk->n_tags; i++) {
			sim_xml_open(r, "item");
			sim_xml_text(r, "key", blk->tags[i].key);
			sim_xml_text(r, "value", blk->tags[i].value);
			sim_xml_close(r, "item");
		}
		sim_xml_close(r, "tagSet");
		sim_xml_open(r, "capacityAllocationSet");
		sim_xml_open(r, "item");
		sim_xml_text(r, "allocationType", "used");
		sim_xml_int(r, "count", sim_block_used(w, b, c->now));
		sim_xml_close(r, "item");
		sim_xml_close(r, "capacityAllocationSet");
	}
	sim_xml_close(r, "item");
}

static bool block_matches(const struct sim_world *w, size_t b, const struct sim_filters *f,
			  cbq_ms now)
{
	const struct sim_block *blk = &w->sc->blocks[b];

	for (size_t i = 0; i < f->n; i++) {
		const struct sim_filter *x = &f->v[i];
		const char *v = NULL;
		if (strcmp(x->name, "state") == 0)
			v = sim_block_state(w, b, now);
		else if (strcmp(x->name, "instance-type") == 0)
			v = blk->instance_type;
		else if (strcmp(x->name, "availability-zone") == 0)
			v = blk->az;
		else if (strcmp(x->name, "owner-id") == 0)
			v = blk->owner;
		else if (strcmp(x->name, "instance-platform") == 0)
			v = blk->platform;
		else if (strcmp(x->name, "tenancy") == 0)
			v = "default";
		else if (strcmp(x->name, "instance-match-criteria") == 0)
			v = "targeted";
		else if (strcmp(x->name, "end-date-type") == 0)
			v = "limited";
		else if (strcmp(x->name, "reservation-type") == 0)
			v = "capacity-block";
		if (!sim_filter_match(x, v))
			return false;
	}
	return true;
}

static void describe_reservations(struct sim_world *w, const struct sim_call *c,
				  struct sim_reply *r)
{
	static const char *const allowed[] = { "state",
					       "instance-type",
					       "availability-zone",
					       "owner-id",
					       "instance-platform",
					       "tenancy",
					       "instance-match-criteria",
					       "end-date-type",
					       "reservation-type",
					       NULL };
	const char *ids[SIM_MAX_LIST];
	struct sim_filters *f = calloc(1, sizeof(*f));
	size_t *pick = calloc(w->sc->n_blocks + 1, sizeof(*pick)), n = 0, offset;
	long n_ids, max_results;

	if (!f || !pick)
		abort();
	if ((n_ids = sim_ec2_list(c->params, "CapacityReservationId", ids, r)) < 0 ||
	    !sim_ec2_filters(c->params, allowed, f, r) ||
	    !sim_ec2_paging(c->params, "dcr", 1, 1000, &max_results, &offset, r))
		goto out;
	for (long i = 0; i < n_ids; i++) {
		if (!cr_id_ok(ids[i])) {
			sim_ec2_error(r, 400, "InvalidCapacityReservationId.Malformed",
				      "Invalid id: \"%.64s\" (expecting \"cr-...\")", ids[i]);
			goto out;
		}
		long b = sim_scenario_block(w->sc, ids[i]);
		if (b < 0 || !sim_block_usable_by(w, (size_t)b, c->who.account)) {
			sim_ec2_error(r, 400, "InvalidCapacityReservationId.NotFound",
				      "The capacity reservation ID '%s' does not exist", ids[i]);
			goto out;
		}
	}
	if (sim_ec2_dry_run(c->params, r))
		goto out;
	for (size_t b = 0; b < w->sc->n_blocks; b++) {
		bool named = n_ids == 0;
		for (long i = 0; i < n_ids && !named; i++)
			named = strcmp(ids[i], w->sc->blocks[b].id) == 0;
		if (named && sim_block_usable_by(w, b, c->who.account) &&
		    block_matches(w, b, f, c->now))
			pick[n++] = b;
	}
	sim_ec2_begin(r, "DescribeCapacityReservations");
	sim_xml_open(r, "capacityReservationSet");
	size_t end = offset + (size_t)max_results < n ? offset + (size_t)max_results : n;
	for (size_t i = offset; i < end; i++)
		render_block(w, pick[i], c, r);
	sim_xml_close(r, "capacityReservationSet");
	if (end < n) {
		char tok[64];
		sim_ec2_token("dcr", end, tok, sizeof(tok));
		sim_xml_text(r, "nextToken", tok);
	}
	sim_ec2_end(r, "DescribeCapacityReservations");
out:
	free(f);
	free(pick);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void usage(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	const char *id = sim_params_get(c->params, "CapacityReservationId");
	long max_results;
	size_t offset;

	if (!id) {
		sim_ec2_error(r, 400, "MissingParameter",
			      "The request must contain the parameter CapacityReservationId");
		return;
	}
	if (!cr_id_ok(id)) {
		sim_ec2_error(r, 400, "InvalidCapacityReservationId.Malformed",
			      "Invalid id: \"%.64s\" (expecting \"cr-...\")", id);
		return;
	}
	long b = sim_scenario_block(w->sc, id);
	if (b < 0 || !sim_block_usable_by(w, (size_t)b, c->who.account)) {
		sim_ec2_error(r, 400, "InvalidCapacityReservationId.NotFound",
			      "The capacity reservation ID '%s' does not exist", id);
		return;
	}
	/* A consumer may see the block but not who uses it (DESIGN.md §1).
	 * AWS.md §1.5 leaves the exact error unverified; this is our choice. */
	if (strcmp(w->sc->blocks[b].owner, c->who.account) != 0) {
		sim_ec2_error(r, 403, "UnauthorizedOperation",
			      "You are not authorized to perform this operation. Only the owner "
			      "of Capacity Reservation %s can get its usage.",
			      id);
		return;
	}
	if (!sim_ec2_paging(c->params, "gcu", 1, 1000, &max_results, &offset, r) ||
	    sim_ec2_dry_run(c->params, r))
		return;

	/* Accounts with instances holding a slot now, sorted. */
	size_t n_acc = 0, cap = w->blk[b].n + 1;
	const char **acc = calloc(cap, sizeof(*acc));
	if (!acc)
		abort();
	for (size_t k = 0; k < w->blk[b].n; k++) {
		const struct sim_instance *in = &w->inst[w->blk[b].inst[k]];
		if (sim_instance_state(w, in, c->now) == SIM_TERMINATED || in->launch > c->now)
			continue;
		bool seen = false;
		for (size_t j = 0; j < n_acc && !seen; j++)
			seen = strcmp(acc[j], in->account) == 0;
		if (!seen)
			acc[n_acc++] = in->account;
	}
	qsort(acc, n_acc, sizeof(*acc), cmp_str);

	sim_ec2_begin(r, "GetCapacityReservationUsage");
	sim_xml_text(r, "capacityReservationId", id);
	sim_xml_text(r, "instanceType", w->sc->blocks[b].instance_type);
	sim_xml_int(r, "totalInstanceCount", w->sc->blocks[b].count);
	sim_xml_int(r, "availableInstanceCount", sim_block_available(w, (size_t)b, c->now));
	sim_xml_text(r, "state", sim_block_state(w, (size_t)b, c->now));
	sim_xml_open(r, "instanceUsageSet");
	size_t end = offset + (size_t)max_results < n_acc ? offset + (size_t)max_results : n_acc;
	for (size_t j = offset; j < end; j++) {
		int used = 0;
		for (size_t k = 0; k < w->blk[b].n; k++) {
			const struct sim_instance *in = &w->inst[w->blk[b].inst[k]];
			if (strcmp(in->account, acc[j]) == 0 && in->launch <= c->now &&
			    sim_instance_state(w, in, c->now) != SIM_TERMINATED)
				used++;
		}
		sim_xml_open(r, "item");
		sim_xml_text(r, "accountId", acc[j]);
		sim_xml_int(r, "usedInstanceCount", used);
		sim_xml_close(r, "item");
	}
	sim_xml_close(r, "instanceUsageSet");
	if (end < n_acc) {
		char tok[64];
		sim_ec2_token("gcu", end, tok, sizeof(tok));
		sim_xml_text(r, "nextToken", tok);
	}
	sim_ec2_end(r, "GetCapacityReservationUsage");
	free(acc);
}

static const struct {
	const char *name;
	void (*fn)(struct sim_world *, const struct sim_call *, struct sim_reply *);
} ACTIONS[] = {
	{ "DescribeCapacityReservations", describe_reservations },
	{ "GetCapacityReservationUsage", usage },
	{ "RunInstances", sim_ec2_run_instances },
	{ "DescribeInstances", sim_ec2_describe_instances },
	{ "TerminateInstances", sim_ec2_terminate_instances },
};

bool sim_ec2_known(const char *action)
{
	for (size_t i = 0; i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++)
		if (strcmp(ACTIONS[i].name, action) == 0)
			return true;
	return false;
}

void sim_ec2_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	for (size_t i = 0; i < sizeof(ACTIONS) / sizeof(ACTIONS[0]); i++) {
		if (strcmp(ACTIONS[i].name, c->action) == 0) {
			ACTIONS[i].fn(w, c, r);
			return;
		}
	}
	sim_ec2_error(r, 400, "InvalidAction",
		      "The action %.64s is not valid for this web service.", c->action);
}
