/*
 * Reconcile: the decision for one job from what EC2 shows, table-driven
 * from data/inv_reconcile.tsv, plus invariants over random inputs (cbq only
 * ever terminates the current attempt's instances; every transition is a
 * legal edge). Not the engine that carries decisions out.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/reconcile.h"
#include "inventory/text.h"
#include "launcher/plan.h"
#include "test_inv_tsv.h"

#define JOB_ID 42
#define BLOCK_ID "cr-0123456789abcdef0"

enum { MAX_INST = 16 };

/* One row, decoded; strings point into the row or into tokens/ids here. */
struct row {
	struct job job;
	struct block block;
	struct inv_instance inst[MAX_INST];
	size_t n;
	char tokens[MAX_INST][LAUNCH_CLIENT_TOKEN_BUF];
	struct inv_reconcile_input in;
};

static const char *reason_alias(const struct tsv *t, const char *s)
{
	static const struct {
		const char *alias, *text;
	} aliases[] = {
		{ "self", "Client.InstanceInitiatedShutdown: Instance initiated shutdown" },
		{ "user", "Client.UserInitiatedShutdown: User initiated shutdown" },
		{ "stop", "Server.ScheduledStop: The Capacity Block reservation is ending" },
		{ "ice", "Server.InsufficientInstanceCapacity: Insufficient capacity." },
		{ "hw", "Server.InternalError: Internal error on launch" },
	};

	if (strcmp(s, "-") == 0)
		return NULL;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(s, aliases[i].alias) == 0)
			return aliases[i].text;
	cr_assert_fail("%s: unknown reason alias %s", tsv_where(t), s);
	return NULL;
}

static void token_for(const struct tsv *t, const char *spec, int32_t attempt, char *out)
{
	long long job = JOB_ID, att = attempt;

	if (strcmp(spec, "cur") == 0) {
	} else if (spec[0] == 'a') {
		att = atoll(spec + 1);
	} else if (spec[0] == 'j') {
		cr_assert(sscanf(spec, "j%lld-%lld", &job, &att) == 2, "%s: token %s", tsv_where(t),
			  spec);
	} else if (strcmp(spec, "x") == 0) {
		strcpy(out, "manual-launch-1");
		return;
	} else {
		cr_assert_fail("%s: unknown token %s", tsv_where(t), spec);
	}
	cr_assert_eq(launch_client_token(job, (int32_t)att, out, NULL), CBQ_OK);
}

static void decode(struct tsv *t, struct row *r)
{
	memset(r, 0, sizeof(*r));
	cr_assert(job_state_parse(tsv_at(t, 1), &r->job.state), "%s: state", tsv_where(t));
	r->job.id = JOB_ID;
	r->job.attempt = (int32_t)atoi(tsv_at(t, 2));
	r->job.spec.count = (int32_t)atoi(tsv_at(t, 3));
	r->job.started_at = tsv_time(tsv_at(t, 4));
	r->job.spec.duration_s = tsv_span(tsv_at(t, 5)) / 1000;
	r->job.spec.checkpointable = tsv_at(t, 6)[0] == 'y';
	r->job.spec.account_id = "111122223333";
	r->job.block_id = BLOCK_ID;
	r->block = (struct block){ .id = BLOCK_ID,
				   .state = tsv_at(t, 9),
				   .end = tsv_time(tsv_at(t, 10)) };

	char *items[MAX_INST];
	r->n = tsv_split(tsv_at(t, 12), ',', items, MAX_INST);
	for (size_t i = 0; i < r->n; i++) {
		char *f[4] = { 0 };
		size_t nf = tsv_split(items[i], ':', f, 4);
		cr_assert(nf >= 2, "%s: instance %s", tsv_where(t), items[i]);
		r->inst[i].id = f[0];
		r->inst[i].state = f[1];
		if (nf >= 3 && strcmp(f[2], "none") == 0) {
			r->inst[i].client_token = NULL;
		} else {
			token_for(t, nf >= 3 ? f[2] : "cur", r->job.attempt, r->tokens[i]);
			r->inst[i].client_token = r->tokens[i];
		}
		r->inst[i].state_reason = nf >= 4 ? reason_alias(t, f[3]) : NULL;
	}
	inv_reconcile_settings_default(&r->in.settings);
	r->in.now = tsv_time(tsv_at(t, 11));
	r->in.job = &r->job;
	r->in.cancel_requested = tsv_at(t, 7)[0] == 'y';
	r->in.launch_sent_at = tsv_time(tsv_at(t, 8));
	r->in.block = &r->block;
	r->in.instances = r->inst;
	r->in.n_instances = r->n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "i-a,i-b" (any order) equals the terminate list. */
static void expect_terminate(const struct tsv *t, char *want, const struct inv_decision *d)
{
	char *w[MAX_INST];
	const char *got[INV_INSTANCES_MAX];
	size_t n = tsv_split(want, ',', w, MAX_INST);

	cr_expect_eq(d->n_terminate, n, "%s: %zu to terminate, want %zu", tsv_where(t),
		     d->n_terminate, n);
	if (d->n_terminate != n)
		return;
	memcpy(got, d->terminate, n * sizeof(*got));
	qsort(got, n, sizeof(*got), cmp_str);
	qsort(w, n, sizeof(*w), cmp_str);
	for (size_t i = 0; i < n; i++)
		cr_expect_str_eq(got[i], w[i], "%s", tsv_where(t));
}

Test(inv_reconcile, cases_from_table)
{
	static struct row r;
	static struct inv_decision d;
	struct tsv t;
	int rows = 0;

	tsv_open(&t, "inv_reconcile.tsv");
	while (tsv_next(&t)) {
		struct cbq_error err = { 0 };
		const char *where = tsv_where(&t);

		rows++;
		decode(&t, &r);
		cr_assert_eq(inv_reconcile(&r.in, &d, &err), CBQ_OK, "%s: %s", where, err.msg);
		cr_expect_str_eq(inv_action_name(d.action), tsv_at(&t, 13),
				 "%s (%s): action %s: %s", where, tsv_at(&t, 0),
				 inv_action_name(d.action), d.reason);
		if (d.action == INV_ACTION_TRANSITION) {
			enum job_state to;
			cr_assert(job_state_parse(tsv_at(&t, 14), &to), "%s: to", where);
			cr_expect_eq(d.transition.to, to, "%s (%s): to %s", where, tsv_at(&t, 0),
				     job_state_name(d.transition.to));
			cr_expect_eq(d.transition.new_attempt, atoi(tsv_at(&t, 15)), "%s: attempt",
				     where);
			cr_expect_str_eq(d.transition.reason, d.reason, "%s", where);
		} else {
			cr_expect_str_eq(tsv_at(&t, 14), "-", "%s: the table expects a transition",
					 where);
		}
		expect_terminate(&t, tsv_at(&t, 16), &d);
		cr_expect_eq(d.n_ignored, (size_t)atoi(tsv_at(&t, 17)), "%s: %zu ignored", where,
			     d.n_ignored);
		const char *next = tsv_at(&t, 18);
		if (strcmp(next, "never") == 0)
			cr_expect_eq(d.next_at, INV_NEVER, "%s: next_at", where);
		else if (strcmp(next, "*") != 0) {
			char a[INV_TIME_BUF];
			cr_expect_eq(d.next_at, tsv_time(next), "%s: next_at %s", where,
				     d.next_at == INV_NEVER ? "never" :
							      inv_time_format(d.next_at, a));
		}
		char *pieces[8];
		size_t n = tsv_split(tsv_at(&t, 19), '|', pieces, 8);
		for (size_t i = 0; i < n; i++)
			cr_expect(strstr(d.reason, pieces[i]),
				  "%s (%s): reason \"%s\" lacks \"%s\"", where, tsv_at(&t, 0),
				  d.reason, pieces[i]);
		cr_expect(inv_text_is_clean(d.reason), "%s", where);
	}
	tsv_close(&t);
	cr_expect_gt(rows, 60, "the table looks truncated");
}

/* ---- input limits ------------------------------------------------------- */

static struct job base_job(enum job_state s)
{
	return (struct job){
		.id = JOB_ID,
		.state = s,
		.attempt = 1,
		.spec = { .account_id = "111122223333", .count = 1, .duration_s = 3600 },
		.started_at = TSV_T0_MS,
		.block_id = BLOCK_ID,
	};
}

static const struct block base_block = { .id = BLOCK_ID,
					 .state = "active",
					 .end = TSV_T0_MS + 86400000 };

Test(inv_reconcile, refuses_bad_input_and_leaves_output_alone)
{
	static struct inv_instance many[INV_INSTANCES_MAX + 1];
	static struct inv_decision d = { .n_terminate = 77 };
	struct job j = base_job(JOB_RUNNING);
	struct inv_reconcile_input in = { .now = TSV_T0_MS, .job = &j, .block = &base_block };
	struct cbq_error err = { 0 };

	inv_reconcile_settings_default(&in.settings);
	in.instances = many;
	in.n_instances = INV_INSTANCES_MAX + 1;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_TOO_LARGE);
	in.n_instances = 0;
	in.job = NULL;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID);
	in.job = &j;
	in.block = NULL;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID, "running without a block");
	cr_expect_str_eq(err.field, "block");
	in.block = &base_block;
	j.started_at = 0;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID, "running without a start");
	j = base_job(JOB_LAUNCHING);
	j.spec.count = 0;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID);
	j = base_job(JOB_RUNNING);
	j.attempt = 0;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID);
	j = base_job(JOB_RUNNING);
	j.spec.duration_s = JOB_DURATION_MAX_S + 1;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID);
	j = base_job(JOB_RUNNING);
	in.settings.launch_grace = -1;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID);
	inv_reconcile_settings_default(&in.settings);
	in.now = -5;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_ERR_INVALID);
	cr_expect_eq(d.n_terminate, 77, "output written on failure");
	in.now = TSV_T0_MS;
	cr_expect_eq(inv_reconcile(&in, &d, &err), CBQ_OK, "%s", err.msg);
}

Test(inv_reconcile, queued_and_final_jobs_need_no_block)
{
	static struct inv_decision d;
	struct job j = base_job(JOB_QUEUED);
	struct inv_reconcile_input in = { .now = TSV_T0_MS, .job = &j };

	inv_reconcile_settings_default(&in.settings);
	j.started_at = 0;
	cr_expect_eq(inv_reconcile(&in, &d, NULL), CBQ_OK);
	j.state = JOB_CANCELLED;
	cr_expect_eq(inv_reconcile(&in, &d, NULL), CBQ_OK);
	cr_expect_eq(d.action, INV_ACTION_NONE);
}

/* ---- invariants over random inputs -------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t pick(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static const char *one_of(uint64_t *s, const char *const *v, size_t n)
{
	return v[rng_next(s) % n];
}

#define ONE_OF(s, arr) one_of(s, arr, sizeof(arr) / sizeof(arr[0]))

struct world {
	struct job job;
	struct block block;
	struct inv_instance inst[MAX_INST];
	char ids[MAX_INST][8];
	char tokens[MAX_INST][LAUNCH_CLIENT_TOKEN_BUF];
	struct inv_reconcile_input in;
};

static void random_world(uint64_t *s, struct world *w)
{
	static const char *const ist[] = { "pending",  "running", "shutting-down", "terminated",
					   "stopping", "stopped", "rebooting",	   NULL };
	static const char *const reasons[] = {
		NULL,
		"Client.InstanceInitiatedShutdown: Instance initiated shutdown",
		"Client.UserInitiatedShutdown: User initiated shutdown",
		"Server.ScheduledStop: The Capacity Block reservation is ending",
		"Server.InsufficientInstanceCapacity: Insufficient capacity.",
		"Server.InternalError: Internal error",
		"\xff broken \x01 text",
	};
	static const char *const bst[] = { "active",	"active",	  "scheduled", "expired",
					   "cancelled", "payment-failed", NULL };
	const cbq_ms min = 60000, hour = 3600000;

	memset(w, 0, sizeof(*w));
	w->job = base_job((enum job_state)pick(s, 0, JOB_STATE_COUNT - 1));
	w->job.attempt = (int32_t)pick(s, 1, 4);
	w->job.spec.count = (int32_t)pick(s, 1, 4);
	w->job.spec.duration_s = pick(s, 1, 8 * 60) * 60;
	w->job.spec.checkpointable = pick(s, 0, 1);
	w->job.started_at = TSV_T0_MS + pick(s, 0, 48) * hour / 2;
	w->block = (struct block){ .id = BLOCK_ID,
				   .state = ONE_OF(s, bst),
				   .end = TSV_T0_MS + pick(s, 1, 72) * hour };
	w->in.now = w->job.started_at + pick(s, -30, 24 * 60) * min;
	if (w->in.now < 0)
		w->in.now = 0;
	inv_reconcile_settings_default(&w->in.settings);
	w->in.settings.launch_grace = pick(s, 0, 10) * min;
	w->in.settings.expiry_lead = pick(s, 0, 30) * min;
	w->in.job = &w->job;
	w->in.block = &w->block;
	w->in.cancel_requested = pick(s, 0, 4) == 0;
	w->in.launch_sent_at = w->job.started_at - pick(s, 0, 10) * min;
	w->in.instances = w->inst;
	w->in.n_instances = (size_t)pick(s, 0, 8);
	for (size_t i = 0; i < w->in.n_instances; i++) {
		struct inv_instance *x = &w->inst[i];
		/* sometimes the same id twice, as overlapping pages give */
		snprintf(w->ids[i], sizeof(w->ids[i]), "i-%d", (int)pick(s, 0, 9));
		x->id = pick(s, 0, 20) ? w->ids[i] : NULL;
		x->state = ONE_OF(s, ist);
		x->state_reason = ONE_OF(s, reasons);
		switch (pick(s, 0, 5)) {
		case 0:
		case 1:
		case 2: /* current attempt */
			cr_assert_eq(launch_client_token(JOB_ID, w->job.attempt, w->tokens[i],
							 NULL),
				     CBQ_OK);
			break;
		case 3: /* another attempt of this job */
			cr_assert_eq(launch_client_token(JOB_ID, (int32_t)pick(s, 1, 5),
							 w->tokens[i], NULL),
				     CBQ_OK);
			break;
		case 4: /* another job */
			cr_assert_eq(launch_client_token(pick(s, 1, 100), w->job.attempt,
							 w->tokens[i], NULL),
				     CBQ_OK);
			break;
		default:
			snprintf(w->tokens[i], sizeof(w->tokens[i]), "%s",
				 pick(s, 0, 1) ? "manual" : "");
		}
		x->client_token = pick(s, 0, 10) ? w->tokens[i] : NULL;
	}
}

static bool terminable(const char *state)
{
	return !state || (strcmp(state, "shutting-down") != 0 && strcmp(state, "terminated") != 0);
}

static void check_invariants(const struct world *w, const struct inv_decision *d, uint64_t seed)
{
	char token[LAUNCH_CLIENT_TOKEN_BUF];
	size_t others = 0;

	cr_assert_eq(launch_client_token(JOB_ID, w->job.attempt, token, NULL), CBQ_OK);
	for (size_t i = 0; i < w->in.n_instances; i++) {
		const struct inv_instance *x = &w->inst[i];
		if (!x->id || !x->id[0] || !x->client_token || strcmp(x->client_token, token) != 0)
			others++;
	}
	cr_assert_eq(d->n_ignored, others, "seed %" PRIu64, seed);
	cr_assert(d->reason[0] && inv_text_is_clean(d->reason), "seed %" PRIu64 ": reason", seed);
	cr_assert(d->next_at == INV_NEVER || d->next_at > w->in.now, "seed %" PRIu64, seed);

	if (d->action == INV_ACTION_TERMINATE) {
		cr_assert_gt(d->n_terminate, 0, "seed %" PRIu64, seed);
		for (size_t k = 0; k < d->n_terminate; k++) {
			bool own = false;
			for (size_t i = 0; i < w->in.n_instances && !own; i++) {
				const struct inv_instance *x = &w->inst[i];
				own = x->id && strcmp(x->id, d->terminate[k]) == 0 &&
				      x->client_token && strcmp(x->client_token, token) == 0 &&
				      terminable(x->state);
			}
			cr_assert(own,
				  "seed %" PRIu64 ": %s is not the current attempt's, or is "
				  "already going",
				  seed, d->terminate[k]);
			for (size_t m = 0; m < k; m++)
				cr_assert_str_neq(d->terminate[m], d->terminate[k],
						  "seed %" PRIu64 ": listed twice", seed);
		}
	} else {
		cr_assert_eq(d->n_terminate, 0, "seed %" PRIu64, seed);
	}
	if (d->action == INV_ACTION_TRANSITION) {
		const struct inv_transition *tr = &d->transition;
		cr_assert(inv_job_edge_ok(w->job.state, tr->to), "seed %" PRIu64 ": %s -> %s", seed,
			  job_state_name(w->job.state), job_state_name(tr->to));
		cr_assert_eq(tr->from, w->job.state, "seed %" PRIu64, seed);
		cr_assert_eq(tr->job_id, JOB_ID);
		cr_assert_eq(tr->at, w->in.now);
		cr_assert_eq(tr->new_attempt,
			     inv_job_next_attempt(tr->from, tr->to, w->job.attempt));
		cr_assert_str_eq(tr->reason, d->reason);
	}
	if (job_state_is_final(w->job.state))
		cr_assert_neq(d->action, INV_ACTION_TRANSITION, "seed %" PRIu64, seed);
}

Test(inv_reconcile, random_inputs_keep_the_invariants)
{
	static struct world w, shuffled;
	static struct inv_decision d, d2;
	int transitions = 0, terminates = 0;

	for (uint64_t seed = 1; seed <= 30000; seed++) {
		uint64_t s = seed;
		struct cbq_error err = { 0 };

		random_world(&s, &w);
		cr_assert_eq(inv_reconcile(&w.in, &d, &err), CBQ_OK, "seed %" PRIu64 ": %s", seed,
			     err.msg);
		check_invariants(&w, &d, seed);
		transitions += d.action == INV_ACTION_TRANSITION;
		terminates += d.action == INV_ACTION_TERMINATE;

		/* the order EC2 lists instances in changes nothing that matters */
		shuffled = w;
		shuffled.in.job = &shuffled.job;
		shuffled.in.block = &shuffled.block;
		shuffled.in.instances = shuffled.inst;
		for (size_t i = shuffled.in.n_instances; i > 1; i--) {
			size_t k = (size_t)(rng_next(&s) % i);
			struct inv_instance x = shuffled.inst[i - 1];
			shuffled.inst[i - 1] = shuffled.inst[k];
			shuffled.inst[k] = x;
		}
		cr_assert_eq(inv_reconcile(&shuffled.in, &d2, NULL), CBQ_OK);
		cr_assert_eq(d2.action, d.action, "seed %" PRIu64 ": order changed the action",
			     seed);
		cr_assert_eq(d2.n_terminate, d.n_terminate, "seed %" PRIu64, seed);
		if (d.action == INV_ACTION_TRANSITION)
			cr_assert_eq(d2.transition.to, d.transition.to, "seed %" PRIu64, seed);
	}
	/* the generator must reach both kinds of decision often */
	cr_expect_gt(transitions, 3000);
	cr_expect_gt(terminates, 1000);
}
