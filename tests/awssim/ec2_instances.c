/*
 * EC2 RunInstances into a Capacity Block (first come, first served across
 * accounts; ClientToken idempotency per account), DescribeInstances (an
 * account sees only its own instances; filters, paging by reservation) and
 * TerminateInstances (own instances only, all or nothing). Not the capacity
 * model itself (world.c).
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_common.h"

static int cmp_param(const void *a, const void *b)
{
	const struct sim_param *x = *(const struct sim_param *const *)a;
	const struct sim_param *y = *(const struct sim_param *const *)b;
	int c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->value, y->value);
}

/* SHA-256 over the sorted parameters that define the launch: everything
 * but Action, Version, ClientToken and DryRun. */
static void fingerprint(const struct sim_params *p, unsigned char out[32])
{
	const struct sim_param **v = calloc(p->n + 1, sizeof(*v));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = 0;

	if (!v || !ctx)
		abort();
	for (size_t i = 0; i < p->n; i++) {
		const char *k = p->v[i].name;
		if (strcmp(k, "Action") && strcmp(k, "Version") && strcmp(k, "ClientToken") &&
		    strcmp(k, "DryRun"))
			v[n++] = &p->v[i];
	}
	qsort(v, n, sizeof(*v), cmp_param);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		EVP_DigestUpdate(ctx, v[i]->name, strlen(v[i]->name) + 1);
		EVP_DigestUpdate(ctx, v[i]->value, strlen(v[i]->value) + 1);
	}
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	free(v);
}

/* TagSpecification.N.ResourceType=instance with .Tag.M.Key/Value. */
static bool read_tags(const struct sim_params *p, struct sim_tag *tags, size_t *n_tags,
		      struct sim_reply *r)
{
	*n_tags = 0;
	for (size_t i = 1; sim_params_getf(p, "TagSpecification.%zu.ResourceType", i) ||
			   sim_params_getf(p, "TagSpecification.%zu.Tag.1.Key", i);
	     i++) {
		const char *type = sim_params_getf(p, "TagSpecification.%zu.ResourceType", i);
		if (!type) {
			sim_ec2_error(r, 400, "InvalidParameterValue",
				      "Tag specification resource type must have a value");
			return false;
		}
		for (size_t j = 1;; j++) {
			const char *k =
				sim_params_getf(p, "TagSpecification.%zu.Tag.%zu.Key", i, j);
			const char *v =
				sim_params_getf(p, "TagSpecification.%zu.Tag.%zu.Value", i, j);
			if (!k)
				break;
			if (!*k || strlen(k) > SIM_TAG_KEY_LEN ||
			    (v && strlen(v) > SIM_TAG_VALUE_LEN) || strncmp(k, "aws:", 4) == 0) {
				sim_ec2_error(r, 400, "InvalidParameterValue",
					      "Tag keys must be 1..128 characters not starting with "
					      "'aws:' and values at most 256 characters");
				return false;
			}
			if (strcmp(type, "instance") != 0)
				continue;
			for (size_t t = 0; t < *n_tags; t++) {
				if (strcmp(tags[t].key, k) == 0) {
					sim_ec2_error(r, 400, "InvalidParameterValue",
						      "Duplicate tag key '%.128s' in the tag "
						      "specification",
						      k);
					return false;
				}
			}
			if (*n_tags == SIM_MAX_TAGS) {
				sim_ec2_error(r, 400, "TagLimitExceeded",
					      "The maximum number of tags (%d) has been exceeded",
					      SIM_MAX_TAGS);
				return false;
			}
			snprintf(tags[*n_tags].key, sizeof(tags[0].key), "%s", k);
			snprintf(tags[*n_tags].value, sizeof(tags[0].value), "%s", v ? v : "");
			(*n_tags)++;
		}
	}
	return true;
}

struct run_args {
	const char *image, *type, *token, *target, *pref, *market, *az, *subnet;
	long min, max;
	struct sim_tag tags[SIM_MAX_TAGS];
	size_t n_tags;
};

static bool run_args(const struct sim_params *p, struct run_args *a, struct sim_reply *r)
{
	static const char *const required[] = { "ImageId", "InstanceType", "MinCount", "MaxCount" };

	for (size_t i = 0; i < 4; i++) {
		if (!sim_params_get(p, required[i])) {
			sim_ec2_error(r, 400, "MissingParameter",
				      "The request must contain the parameter %s", required[i]);
			return false;
		}
	}
	a->image = sim_params_get(p, "ImageId");
	a->type = sim_params_get(p, "InstanceType");
	a->token = sim_params_get(p, "ClientToken");
	a->target = sim_params_get(
		p,
		"CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId");
	a->pref =
		sim_params_get(p, "CapacityReservationSpecification.CapacityReservationPreference");
	a->market = sim_params_get(p, "InstanceMarketOptions.MarketType");
	a->az = sim_params_get(p, "Placement.AvailabilityZone");
	a->subnet = sim_params_get(p, "SubnetId");
	if (!a->subnet)
		a->subnet = sim_params_get(p, "NetworkInterface.1.SubnetId");
	if (strncmp(a->image, "ami-", 4) != 0 || strlen(a->image) > SIM_NAME_LEN) {
		sim_ec2_error(r, 400, "InvalidAMIID.Malformed",
			      "Invalid id: \"%.64s\" (expecting \"ami-...\")", a->image);
		return false;
	}
	if (!sim_ec2_int("minCount", sim_params_get(p, "MinCount"), 1, SIM_MAX_BLOCK_COUNT, &a->min,
			 r) ||
	    !sim_ec2_int("maxCount", sim_params_get(p, "MaxCount"), 1, SIM_MAX_BLOCK_COUNT, &a->max,
			 r))
		return false;
	if (a->min > a->max) {
		sim_ec2_error(r, 400, "InvalidParameterValue",
			      "Value (%ld) for parameter maxCount is invalid. Must be greater than "
			      "or equal to minCount",
			      a->max);
		return false;
	}
	if (a->token) {
		size_t n = strlen(a->token);
		bool ascii = n >= 1 && n <= SIM_CLIENT_TOKEN_LEN;
		for (size_t i = 0; i < n && ascii; i++)
			ascii = a->token[i] > ' ' && a->token[i] <= '~';
		if (!ascii) {
			sim_ec2_error(r, 400, "InvalidParameterValue",
				      "Value for parameter clientToken is invalid. It must be 1..64 "
				      "printable ASCII characters.");
			return false;
		}
	}
	return read_tags(p, a->tags, &a->n_tags, r);
}

/* Checks the launch against the block; writes the error and returns false. */
static bool check_target(const struct sim_world *w, const struct sim_call *c,
			 const struct run_args *a, long *block, struct sim_reply *r)
{
	if (!a->target) {
		if (a->market && strcmp(a->market, "capacity-block") == 0)
			sim_ec2_error(r, 400, "InvalidParameterCombination",
				      "MarketType capacity-block needs "
				      "CapacityReservationSpecification.CapacityReservationTarget."
				      "CapacityReservationId");
		else
			sim_ec2_error(r, 400, "Unsupported",
				      "cbq-awssim launches only into Capacity Blocks: give "
				      "CapacityReservationSpecification.CapacityReservationTarget."
				      "CapacityReservationId and InstanceMarketOptions.MarketType="
				      "capacity-block");
		return false;
	}
	if (strncmp(a->target, "cr-", 3) != 0 || strlen(a->target) > SIM_ID_LEN) {
		sim_ec2_error(r, 400, "InvalidCapacityReservationId.Malformed",
			      "Invalid id: \"%.64s\" (expecting \"cr-...\")", a->target);
		return false;
	}
	long b = sim_scenario_block(w->sc, a->target);
	if (b < 0 || !sim_block_usable_by(w, (size_t)b, c->who.account)) {
		sim_ec2_error(r, 400, "InvalidCapacityReservationId.NotFound",
			      "The Capacity Reservation ID '%s' does not exist", a->target);
		return false;
	}
	const struct sim_block *blk = &w->sc->blocks[b];
	if (a->pref && strcmp(a->pref, "capacity-reservations-only") != 0) {
		sim_ec2_error(r, 400, "InvalidParameterCombination",
			      "CapacityReservationPreference %.40s cannot be combined with a "
			      "CapacityReservationTarget",
			      a->pref);
		return false;
	}
	if (!a->market || strcmp(a->market, "capacity-block") != 0) {
		sim_ec2_error(r, 400, "InvalidParameterCombination",
			      "%s is a Capacity Block: launch with "
			      "InstanceMarketOptions.MarketType=capacity-block",
			      blk->id);
		return false;
	}
	if (strcmp(a->type, blk->instance_type) != 0) {
		sim_ec2_error(r, 400, "InvalidParameterValue",
			      "The instance type '%.64s' does not match the instance type '%s' of "
			      "Capacity Reservation %s",
			      a->type, blk->instance_type, blk->id);
		return false;
	}
	if (a->az && strcmp(a->az, blk->az) != 0) {
		sim_ec2_error(r, 400, "InvalidParameterValue",
			      "The Availability Zone '%.64s' does not match the Availability Zone "
			      "'%s' of Capacity Reservation %s",
			      a->az, blk->az, blk->id);
		return false;
	}
	if (a->subnet && w->sc->n_subnets) {
		const struct sim_subnet *sn = NULL;
		for (size_t i = 0; i < w->sc->n_subnets && !sn; i++)
			if (strcmp(w->sc->subnets[i].id, a->subnet) == 0)
				sn = &w->sc->subnets[i];
		if (!sn) {
			sim_ec2_error(r, 400, "InvalidSubnetID.NotFound",
				      "The subnet ID '%.64s' does not exist", a->subnet);
			return false;
		}
		if (strcmp(sn->az, blk->az) != 0) {
			sim_ec2_error(r, 400, "InvalidParameterValue",
				      "Subnet %s is in %s, but Capacity Reservation %s is in %s",
				      sn->id, sn->az, blk->id, blk->az);
			return false;
		}
	}
	*block = b;
	return true;
}

static bool check_capacity(const struct sim_world *w, size_t b, const struct run_args *a,
			   cbq_ms now, long *n, struct sim_reply *r)
{
	const struct sim_block *blk = &w->sc->blocks[b];
	const char *state = sim_block_state(w, b, now);
	char at[SIM_TIME_SIZE];

	if (strcmp(state, "scheduled") == 0) {
		sim_ec2_error(r, 400, "InvalidCapacityReservationState.PendingActivation",
			      "Your Capacity Block %s is not active yet. It starts at %s.", blk->id,
			      sim_time_iso(blk->start, at));
		return false;
	}
	if (strcmp(state, "active") != 0) {
		sim_ec2_error(r, 400, "InvalidLaunchTargets",
			      "Capacity Reservation %s is %s; no instances can be launched into it",
			      blk->id, state);
		return false;
	}
	if (now >= sim_block_cutoff(blk)) {
		sim_ec2_error(r, 400, "ReservationCapacityExceeded",
			      "Capacity Block %s ends at %s; EC2 launches no instances in its last "
			      "30 minutes",
			      blk->id, sim_time_iso(blk->end, at));
		return false;
	}
	long avail = sim_block_available(w, b, now);
	if (avail < a->min) {
		sim_ec2_error(r, 400, "ReservationCapacityExceeded",
			      "There is not enough capacity in Capacity Reservation %s for %ld "
			      "instances (%ld available).",
			      blk->id, a->min, avail);
		return false;
	}
	*n = avail < a->max ? avail : a->max;
	return true;
}

void sim_ec2_run_instances(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	struct run_args *a = calloc(1, sizeof(*a));
	unsigned char fp[32];
	long b, n;

	if (!a)
		abort();
	if (!run_args(c->params, a, r))
		goto out;
	fingerprint(c->params, fp);
	if (a->token) {
		long rv = sim_world_find_token(w, c->who.account, a->token);
		if (rv >= 0) {
			const struct sim_reservation *res = &w->resv[rv];
			bool live = false;
			if (memcmp(res->fingerprint, fp, sizeof(fp)) != 0) {
				sim_ec2_error(r, 400, "IdempotentParameterMismatch",
					      "Arguments on this idempotent request are inconsistent "
					      "with arguments used in previous request(s).");
				goto out;
			}
			for (size_t k = 0; k < res->n && !live; k++)
				live = sim_instance_state(w, &w->inst[res->first + k], c->now) !=
				       SIM_TERMINATED;
			if (!live) {
				sim_ec2_error(r, 400, "IdempotentInstanceTerminated",
					      "The client token you have provided is associated with "
					      "a resource that is already deleted. Please use a "
					      "different client token.");
				goto out;
			}
			/* The original reply; only the instance states have moved on. */
			sim_ec2_begin(r, "RunInstances");
			sim_ec2_render_reservation(w, (size_t)rv, NULL, c->now, r);
			sim_ec2_end(r, "RunInstances");
			goto out;
		}
	}
	if (!check_target(w, c, a, &b, r) || !check_capacity(w, (size_t)b, a, c->now, &n, r) ||
	    sim_ec2_dry_run(c->params, r))
		goto out;
	struct sim_launch l = {
		.account = c->who.account,
		.block = (size_t)b,
		.count = (int)n,
		.at = c->now,
		.until = -1,
		.image_id = a->image,
		.subnet = a->subnet,
		.client_token = a->token,
		.fingerprint = fp,
		.tags = a->tags,
		.n_tags = a->n_tags,
	};
	size_t rv;
	struct cbq_error err;
	if (sim_world_launch(w, &l, &rv, &err)) {
		sim_ec2_error(r, 400, "InstanceLimitExceeded", "%s", err.msg);
		goto out;
	}
	sim_ec2_begin(r, "RunInstances");
	sim_ec2_render_reservation(w, rv, NULL, c->now, r);
	sim_ec2_end(r, "RunInstances");
out:
	free(a);
}

static bool instance_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n >= 10 && n <= 21 && strncmp(id, "i-", 2) == 0 &&
	       strspn(id + 2, "0123456789abcdef") == n - 2;
}

/* Checks every id is well formed and the caller's listed instance. */
static bool own_instances(const struct sim_world *w, const struct sim_call *c, const char **ids,
			  long n, long *idx, struct sim_reply *r)
{
	char missing[1024] = "";
	size_t n_missing = 0, used = 0;

	for (long i = 0; i < n; i++) {
		if (!instance_id_ok(ids[i])) {
			sim_ec2_error(r, 400, "InvalidInstanceID.Malformed",
				      "Invalid id: \"%.64s\"", ids[i]);
			return false;
		}
		long k = sim_world_find_instance(w, ids[i]);
		if (k < 0 || strcmp(w->inst[k].account, c->who.account) != 0 ||
		    !sim_instance_listed(w, &w->inst[k], c->now)) {
			int m = snprintf(missing + used, sizeof(missing) - used, "%s%s",
					 n_missing ? ", " : "", ids[i]);
			if (m > 0 && used + (size_t)m < sizeof(missing))
				used += (size_t)m;
			n_missing++;
			continue;
		}
		idx[i] = k;
	}
	if (n_missing == 1) {
		sim_ec2_error(r, 400, "InvalidInstanceID.NotFound",
			      "The instance ID '%s' does not exist", missing);
		return false;
	}
	if (n_missing > 1) {
		sim_ec2_error(r, 400, "InvalidInstanceID.NotFound",
			      "The instance IDs '%s' do not exist", missing);
		return false;
	}
	return true;
}

static const char *tag_value(const struct sim_instance *in, const char *key)
{
	for (size_t i = 0; i < in->n_tags; i++)
		if (strcmp(in->tags[i].key, key) == 0)
			return in->tags[i].value;
	return NULL;
}

static bool instance_matches(const struct sim_world *w, const struct sim_instance *in,
			     const struct sim_filters *f, cbq_ms now)
{
	const struct sim_block *blk = &w->sc->blocks[in->block];
	enum sim_istate s = sim_instance_state(w, in, now);
	char code[8];

	snprintf(code, sizeof(code), "%d", sim_istate_code(s));
	for (size_t i = 0; i < f->n; i++) {
		const struct sim_filter *x = &f->v[i];
		const char *v = NULL;
		bool any = false;
		if (strncmp(x->name, "tag:", 4) == 0) {
			v = tag_value(in, x->name + 4);
			if (!v)
				return false;
		} else if (strcmp(x->name, "tag-key") == 0) {
			for (size_t t = 0; t < in->n_tags && !any; t++)
				any = sim_filter_match(x, in->tags[t].key);
			if (!any)
				return false;
			continue;
		} else if (strcmp(x->name, "tag-value") == 0) {
			for (size_t t = 0; t < in->n_tags && !any; t++)
				any = sim_filter_match(x, in->tags[t].value);
			if (!any)
				return false;
			continue;
		} else if (strcmp(x->name, "instance-state-name") == 0) {
			v = sim_istate_name(s);
		} else if (strcmp(x->name, "instance-state-code") == 0) {
			v = code;
		} else if (strcmp(x->name, "client-token") == 0) {
			v = w->resv[in->resv].client_token;
		} else if (strcmp(x->name, "instance-id") == 0) {
			v = in->id;
		} else if (strcmp(x->name, "reservation-id") == 0) {
			v = w->resv[in->resv].id;
		} else if (strcmp(x->name, "capacity-reservation-id") == 0) {
			v = blk->id;
		} else if (strcmp(x->name, "instance-lifecycle") == 0) {
			v = "capacity-block";
		} else if (strcmp(x->name, "instance-type") == 0) {
			v = blk->instance_type;
		} else if (strcmp(x->name, "availability-zone") == 0) {
			v = blk->az;
		} else if (strcmp(x->name, "image-id") == 0) {
			v = in->image_id;
		} else if (strcmp(x->name, "subnet-id") == 0) {
			v = in->subnet;
		} else if (strcmp(x->name, "private-ip-address") == 0) {
			v = in->private_ip;
		}
		if (!sim_filter_match(x, v))
			return false;
	}
	return true;
}

void sim_ec2_describe_instances(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	static const char *const allowed[] = { "tag:",
					       "tag-key",
					       "tag-value",
					       "instance-state-name",
					       "instance-state-code",
					       "client-token",
					       "instance-id",
					       "reservation-id",
					       "capacity-reservation-id",
					       "instance-lifecycle",
					       "instance-type",
					       "availability-zone",
					       "image-id",
					       "subnet-id",
					       "private-ip-address",
					       NULL };
	const char *ids[SIM_MAX_LIST];
	struct sim_filters *f = calloc(1, sizeof(*f));
	long n_ids, max_results;
	size_t offset;
	bool *sel = NULL;

	if (!f)
		abort();
	if ((n_ids = sim_ec2_list(c->params, "InstanceId", ids, r)) < 0 ||
	    !sim_ec2_filters(c->params, allowed, f, r))
		goto out;
	if (n_ids && sim_params_get(c->params, "MaxResults")) {
		sim_ec2_error(r, 400, "InvalidParameterCombination",
			      "The parameter instancesSet cannot be used with the parameter "
			      "maxResults");
		goto out;
	}
	if (!sim_ec2_paging(c->params, "din", 5, 1000, &max_results, &offset, r))
		goto out;
	long idx[SIM_MAX_LIST];
	if (n_ids && !own_instances(w, c, ids, n_ids, idx, r))
		goto out;
	if (sim_ec2_dry_run(c->params, r))
		goto out;

	sel = calloc(w->n_inst + 1, sizeof(*sel));
	if (!sel)
		abort();
	for (long k = 0; k < n_ids; k++)
		sel[idx[k]] = true; /* the named ones, checked to be the caller's */
	for (size_t i = 0; i < w->n_inst; i++) {
		const struct sim_instance *in = &w->inst[i];
		if (n_ids == 0)
			sel[i] = strcmp(in->account, c->who.account) == 0 &&
				 sim_instance_listed(w, in, c->now);
		sel[i] = sel[i] && instance_matches(w, in, f, c->now);
	}
	sim_ec2_begin(r, "DescribeInstances");
	sim_xml_open(r, "reservationSet");
	size_t seen = 0, shown = 0, rv;
	for (rv = 0; rv < w->n_resv; rv++) {
		const struct sim_reservation *res = &w->resv[rv];
		size_t hits = 0;
		for (size_t k = 0; k < res->n; k++)
			hits += sel[res->first + k];
		if (!hits)
			continue;
		if (seen++ < offset)
			continue;
		if (shown && shown + hits > (size_t)max_results)
			break;
		sim_xml_open(r, "item");
		sim_ec2_render_reservation(w, rv, sel + res->first, c->now, r);
		sim_xml_close(r, "item");
		shown += hits;
	}
	sim_xml_close(r, "reservationSet");
	if (rv < w->n_resv) {
		char tok[64];
		sim_ec2_token("din", seen - 1, tok, sizeof(tok));
		sim_xml_text(r, "nextToken", tok);
	}
	sim_ec2_end(r, "DescribeInstances");
out:
	free(sel);
	free(f);
}

void sim_ec2_terminate_instances(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	const char *ids[SIM_MAX_LIST];
	long idx[SIM_MAX_LIST];
	long n = sim_ec2_list(c->params, "InstanceId", ids, r);

	if (n < 0)
		return;
	if (n == 0) {
		sim_ec2_error(r, 400, "MissingParameter",
			      "The request must contain the parameter InstanceId");
		return;
	}
	if (!own_instances(w, c, ids, n, idx, r) || sim_ec2_dry_run(c->params, r))
		return;
	sim_ec2_begin(r, "TerminateInstances");
	sim_xml_open(r, "instancesSet");
	for (long i = 0; i < n; i++) {
		struct sim_instance *in = &w->inst[idx[i]];
		enum sim_istate before = sim_instance_state(w, in, c->now);
		sim_world_terminate(w, (size_t)idx[i], c->now);
		sim_xml_open(r, "item");
		sim_xml_text(r, "instanceId", in->id);
		sim_ec2_state_xml(r, "currentState", sim_instance_state(w, in, c->now));
		sim_ec2_state_xml(r, "previousState", before);
		sim_xml_close(r, "item");
	}
	sim_xml_close(r, "instancesSet");
	sim_ec2_end(r, "TerminateInstances");
}
