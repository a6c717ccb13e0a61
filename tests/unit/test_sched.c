/*
 * Scheduler behaviour, table-driven: every case is a few lines of
 * data/sched_*.tsv (the format is described at the top of each file).
 * Adding a regression is adding a case there; this file only reads them.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"
#include "sched/sched.h"
#include "test_sched_lib.h"

enum { MAX_TOK = 16, MAX_EXPECT = 64 };

struct expect {
	int line;
	int n;
	char *tok[MAX_TOK];
	char *buf;
};

struct tcase {
	const char *file;
	char name[128];
	int line;
	bool has_now;
	struct tin t;
	bool avail_set[T_MAX], consumers_all[T_MAX];
	struct expect ex[MAX_EXPECT];
	int n_ex;
};

static const char *data_dir(void)
{
	const char *dir = getenv("CBQ_TESTDATA");
	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	return dir;
}

/* Splits line on tabs in place; returns the number of fields. */
static int split_tabs(char *line, char **tok, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	for (char *p = line; p && n < max;) {
		tok[n++] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	return n;
}

/* FAIL: the case itself is broken, stop. MISS: the plan is not what the case
 * expects; report it and go on, so one run lists every failing case. */
#define FAIL(c, line, ...) \
	cr_assert_fail("%s:%d (case %s): %s", (c)->file, (line), (c)->name, fmt_msg(__VA_ARGS__))
#define MISS(c, line, ...) \
	cr_expect_fail("%s:%d (case %s): %s", (c)->file, (line), (c)->name, fmt_msg(__VA_ARGS__))

static char msgbuf[512];
CBQ_PRINTF(1, 2)
static const char *fmt_msg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msgbuf, sizeof(msgbuf), fmt, ap);
	va_end(ap);
	return msgbuf;
}

static cbq_ms span_of(struct tcase *c, int line, const char *s)
{
	int64_t secs = 0;
	struct cbq_error err = { 0 };

	if (cbq_duration_parse(s, &secs, &err) != CBQ_OK)
		FAIL(c, line, "bad duration \"%s\": %s", s, err.msg);
	return secs * 1000;
}

/* now, +2h, -1d, 2026-03-02T10:00 */
static cbq_ms time_of(struct tcase *c, int line, const char *s)
{
	cbq_ms t;

	if (strcmp(s, "now") == 0 || s[0] == '+' || s[0] == '-') {
		if (!c->has_now)
			FAIL(c, line, "relative time \"%s\" before a now line", s);
		if (strcmp(s, "now") == 0)
			return c->t.now;
		cbq_ms d = span_of(c, line, s + 1);
		return s[0] == '+' ? c->t.now + d : c->t.now - d;
	}
	if (!parse_utc(s, &t))
		FAIL(c, line, "bad time \"%s\"", s);
	return t;
}

static uint32_t team_of(struct tcase *c, int line, const char *name)
{
	size_t before = c->t.n_teams;
	uint32_t i = tin_intern(c->t.team_names, &c->t.n_teams, name);

	if (i == SCHED_NONE)
		FAIL(c, line, "too many teams");
	if (c->t.n_teams > before)
		c->t.teams[i] = (struct sched_team){ .usage_at = c->t.now };
	return i;
}

/* An account, created with a team of its own name when not declared. */
static uint32_t account_of(struct tcase *c, int line, const char *id)
{
	size_t before = c->t.n_accounts;
	uint32_t i = tin_intern(c->t.account_ids, &c->t.n_accounts, id);

	if (i == SCHED_NONE)
		FAIL(c, line, "too many accounts");
	if (c->t.n_accounts > before)
		c->t.accounts[i].team = team_of(c, line, id);
	return i;
}

static uint32_t block_of(struct tcase *c, int line, const char *id)
{
	uint32_t i = tin_find(c->t.block_ids, c->t.n_blocks, id);
	if (i == SCHED_NONE)
		FAIL(c, line, "no block %s (declare blocks before using them)", id);
	return i;
}

static uint32_t name_in(struct tcase *c, int line, char (*tab)[T_NAME], size_t *n, const char *s)
{
	uint32_t i = tin_intern(tab, n, s);
	if (i == SCHED_NONE)
		FAIL(c, line, "too many names");
	return i;
}

/* key=value option: value or NULL when tok is not key=... */
static const char *opt(const char *tok, const char *key)
{
	size_t n = strlen(key);
	return strncmp(tok, key, n) == 0 && tok[n] == '=' ? tok + n + 1 : NULL;
}

static void row_set(struct tcase *c, int line, char **tok, int n)
{
	struct sched_settings *s = &c->t.set;

	for (int i = 1; i < n; i++) {
		const char *v;
		if ((v = opt(tok[i], "ageing")))
			s->ageing_per_hour = strtod(v, NULL);
		else if ((v = opt(tok[i], "fairshare")))
			s->fair_share_weight = strtod(v, NULL);
		else if ((v = opt(tok[i], "halflife")))
			s->half_life = span_of(c, line, v);
		else if ((v = opt(tok[i], "lead")))
			s->expiry_lead = span_of(c, line, v);
		else if ((v = opt(tok[i], "horizon")))
			s->horizon = span_of(c, line, v);
		else if ((v = opt(tok[i], "minrun")))
			s->min_run = span_of(c, line, v);
		else
			FAIL(c, line, "unknown setting %s", tok[i]);
	}
}

static void row_team(struct tcase *c, int line, char **tok, int n)
{
	if (n < 2)
		FAIL(c, line, "team NAME [options]");
	struct sched_team *t = &c->t.teams[team_of(c, line, tok[1])];
	for (int i = 2; i < n; i++) {
		const char *v;
		if ((v = opt(tok[i], "prio")))
			t->priority = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "usage")))
			t->usage = strtod(v, NULL);
		else if ((v = opt(tok[i], "usage_at")))
			t->usage_at = time_of(c, line, v);
		else if ((v = opt(tok[i], "quota"))) {
			char type[T_NAME];
			int max;
			if (sscanf(v, "%47[^:]:%d", type, &max) != 2 || c->t.n_quotas == T_MAX)
				FAIL(c, line, "quota=TYPE:N");
			c->t.quotas[c->t.n_quotas++] = (struct sched_quota){
				.team = (uint32_t)(t - c->t.teams),
				.type = name_in(c, line, c->t.types, &c->t.n_types, type),
				.max = max,
			};
		} else
			FAIL(c, line, "unknown team option %s", tok[i]);
	}
}

static void row_block(struct tcase *c, int line, char **tok, int n)
{
	if (n < 2 || c->t.n_blocks == T_MAX)
		FAIL(c, line, "block ID [options]");
	size_t bi = c->t.n_blocks++;
	struct sched_block *b = &c->t.blocks[bi];
	snprintf(c->t.block_ids[bi], T_NAME, "%s", tok[1]);
	*b = (struct sched_block){
		.state = SCHED_BLOCK_ACTIVE,
		.owner = SCHED_NONE,
		.total = 8,
		.start = c->t.now - 24 * 3600 * 1000LL,
		.end = c->t.now + 6 * 24 * 3600 * 1000LL,
	};
	const char *type = "p5", *az = "az1";
	c->consumers_all[bi] = true;
	for (int i = 2; i < n; i++) {
		const char *v;
		if ((v = opt(tok[i], "state")))
			b->state = sched_block_state_from_ec2(v);
		else if ((v = opt(tok[i], "type")))
			type = v;
		else if ((v = opt(tok[i], "az")))
			az = v;
		else if ((v = opt(tok[i], "total")))
			b->total = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "avail"))) {
			b->available = (int32_t)strtol(v, NULL, 10);
			c->avail_set[bi] = true;
		} else if ((v = opt(tok[i], "outside")))
			b->used_outside = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "start")))
			b->start = time_of(c, line, v);
		else if ((v = opt(tok[i], "end")))
			b->end = time_of(c, line, v);
		else if ((v = opt(tok[i], "owner")))
			b->owner = account_of(c, line, v);
		else if ((v = opt(tok[i], "consumers"))) {
			c->consumers_all[bi] = strcmp(v, "*") == 0;
			if (c->consumers_all[bi])
				continue;
			char list[512];
			snprintf(list, sizeof(list), "%s", v);
			for (char *save = NULL, *a = strtok_r(list, ",", &save); a;
			     a = strtok_r(NULL, ",", &save))
				if (strcmp(a, "-") != 0)
					c->t.consumers[bi][b->n_consumers++] =
						account_of(c, line, a);
		} else
			FAIL(c, line, "unknown block option %s", tok[i]);
	}
	b->type = name_in(c, line, c->t.types, &c->t.n_types, type);
	b->az = name_in(c, line, c->t.azs, &c->t.n_azs, az);
}

static void row_window(struct tcase *c, int line, char **tok, int n)
{
	if (n < 4 || c->t.n_timeline == T_MAX)
		FAIL(c, line, "window KIND START END [boost=N] [share=F]");
	struct sched_window *w = &c->t.timeline[c->t.n_timeline++];
	*w = (struct sched_window){
		.kind = name_in(c, line, c->t.kinds, &c->t.n_kinds, tok[1]),
		.start = time_of(c, line, tok[2]),
		.end = time_of(c, line, tok[3]),
		.max_share = 1.0,
	};
	for (int i = 4; i < n; i++) {
		const char *v;
		if ((v = opt(tok[i], "boost")))
			w->boost = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "share")))
			w->max_share = strtod(v, NULL);
		else
			FAIL(c, line, "unknown window option %s", tok[i]);
	}
}

static void row_job(struct tcase *c, int line, char **tok, int n)
{
	if (n < 3 || c->t.n_pending == T_MAX)
		FAIL(c, line, "job ID ACCOUNT [options]");
	struct sched_pending *j = &c->t.pending[c->t.n_pending++];
	const char *kind = "training", *type = "p5";
	*j = (struct sched_pending){
		.id = strtoll(tok[1], NULL, 10),
		.account = account_of(c, line, tok[2]),
		.az = SCHED_NONE,
		.count = 1,
		.duration = 3600 * 1000,
		.submitted_at = c->t.now,
	};
	for (int i = 3; i < n; i++) {
		const char *v;
		if ((v = opt(tok[i], "kind")))
			kind = v;
		else if ((v = opt(tok[i], "type")))
			type = v;
		else if ((v = opt(tok[i], "az")))
			j->az = name_in(c, line, c->t.azs, &c->t.n_azs, v);
		else if ((v = opt(tok[i], "count")))
			j->count = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "dur")))
			j->duration = span_of(c, line, v);
		else if ((v = opt(tok[i], "prio")))
			j->priority = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "submitted")))
			j->submitted_at = time_of(c, line, v);
		else if ((v = opt(tok[i], "attempt")))
			j->attempt = (int32_t)strtol(v, NULL, 10);
		else if (strcmp(tok[i], "ckpt") == 0)
			j->checkpointable = true;
		else
			FAIL(c, line, "unknown job option %s", tok[i]);
	}
	j->kind = name_in(c, line, c->t.kinds, &c->t.n_kinds, kind);
	j->type = name_in(c, line, c->t.types, &c->t.n_types, type);
}

static void row_run(struct tcase *c, int line, char **tok, int n)
{
	if (n < 4 || c->t.n_running == T_MAX)
		FAIL(c, line, "run ID ACCOUNT BLOCK [options]");
	struct sched_running *r = &c->t.running[c->t.n_running++];
	const char *kind = "training";
	cbq_ms dur = 2 * 3600 * 1000;
	bool has_end = false;
	*r = (struct sched_running){
		.id = strtoll(tok[1], NULL, 10),
		.account = account_of(c, line, tok[2]),
		.block = block_of(c, line, tok[3]),
		.count = 1,
		.started_at = c->t.now - 3600 * 1000,
	};
	for (int i = 4; i < n; i++) {
		const char *v;
		if ((v = opt(tok[i], "kind")))
			kind = v;
		else if ((v = opt(tok[i], "count")))
			r->count = (int32_t)strtol(v, NULL, 10);
		else if ((v = opt(tok[i], "started")))
			r->started_at = time_of(c, line, v);
		else if ((v = opt(tok[i], "end"))) {
			r->expected_end = time_of(c, line, v);
			has_end = true;
		} else if ((v = opt(tok[i], "dur")))
			dur = span_of(c, line, v);
		else if (strcmp(tok[i], "ckpt") == 0)
			r->checkpointable = true;
		else if (strcmp(tok[i], "expiring") == 0)
			r->expiring = true;
		else
			FAIL(c, line, "unknown run option %s", tok[i]);
	}
	if (!has_end)
		r->expected_end = r->started_at + dur;
	r->kind = name_in(c, line, c->t.kinds, &c->t.n_kinds, kind);
}

/* Defaults that depend on the whole case: consumers *, available. */
static void finish_case(struct tcase *c)
{
	struct tin *t = &c->t;

	for (size_t b = 0; b < t->n_blocks; b++) {
		if (c->consumers_all[b]) {
			t->blocks[b].n_consumers = 0;
			for (size_t a = 0; a < t->n_accounts; a++)
				t->consumers[b][t->blocks[b].n_consumers++] = (uint32_t)a;
		}
		if (!c->avail_set[b]) {
			int32_t used = t->blocks[b].used_outside;
			for (size_t r = 0; r < t->n_running; r++)
				if (t->running[r].block == b)
					used += t->running[r].count;
			int32_t avail = t->blocks[b].total - used;
			t->blocks[b].available = avail > 0 ? avail : 0;
		}
	}
	tin_finish(t);
}

static size_t job_index(struct tcase *c, int line, const struct sched_input *in, const char *id)
{
	int64_t want = strtoll(id, NULL, 10);
	for (size_t i = 0; i < in->n_pending; i++)
		if (in->pending[i].id == want)
			return i;
	FAIL(c, line, "no job %s", id);
	return 0;
}

static const char *block_name(const struct sched_input *in, uint32_t b)
{
	return b == SCHED_NONE ? "-" : in->blocks[b].id;
}

static void need_tokens(struct tcase *c, const struct expect *e, int n)
{
	if (e->n < n)
		FAIL(c, e->line, "expect %s needs %d fields", e->tok[1], n - 2);
}

static void check(struct tcase *c, const struct expect *e, const struct sched_input *in,
		  const struct sched_plan *p)
{
	const char *what = e->tok[1];
	char reason[SCHED_REASON_BUF];

	need_tokens(c, e, 3);
	if (strcmp(what, "launches") == 0 || strcmp(what, "reservations") == 0) {
		size_t want = strtoul(e->tok[2], NULL, 10);
		size_t got = what[0] == 'l' ? p->n_launches : p->n_reservations;
		if (got != want)
			MISS(c, e->line, "%zu %s, want %zu", got, what, want);
		return;
	}
	if (strcmp(what, "next") == 0) {
		cbq_ms want = strcmp(e->tok[2], "none") == 0 ? SCHED_NO_ETA :
							       time_of(c, e->line, e->tok[2]);
		if (p->next_at != want)
			MISS(c, e->line, "next_at %" PRId64 ", want %" PRId64 " (%+" PRId64 " min)",
			     p->next_at, want, (p->next_at - want) / 60000);
		return;
	}
	if (strcmp(what, "expiry") == 0) {
		need_tokens(c, e, 4);
		int64_t id = strtoll(e->tok[2], NULL, 10);
		const char *got = "none";
		for (size_t i = 0; i < p->n_expiries; i++)
			if (p->expiries[i].job_id == id)
				got = sched_expiry_name(p->expiries[i].action);
		if (strcmp(got, e->tok[3]) != 0)
			MISS(c, e->line, "job %s expiry %s, want %s", e->tok[2], got, e->tok[3]);
		return;
	}
	if (strcmp(what, "order") == 0) {
		uint32_t prev = 0;
		for (int i = 2; i < e->n; i++) {
			uint32_t pos = p->verdicts[job_index(c, e->line, in, e->tok[i])].position;
			if (pos <= prev)
				MISS(c, e->line, "job %s at position %u, not after %s (%u)",
				     e->tok[i], pos, e->tok[i - 1], prev);
			prev = pos;
		}
		return;
	}

	size_t j = job_index(c, e->line, in, e->tok[2]);
	const struct sched_verdict *v = &p->verdicts[j];
	sched_reason_format(in, p, j, reason, sizeof(reason));
	char got[SCHED_REASON_BUF + 128];
	snprintf(got, sizeof(got), "place %s on %s eta %+" PRId64 " min; %s",
		 v->place == SCHED_PLACE_LAUNCH	 ? "launch" :
		 v->place == SCHED_PLACE_RESERVE ? "reserve" :
						   "none",
		 block_name(in, v->block), v->eta == SCHED_NO_ETA ? 0 : (v->eta - in->now) / 60000,
		 reason);

	if (strcmp(what, "launch") == 0) {
		need_tokens(c, e, 4);
		bool listed = false;
		for (size_t i = 0; i < p->n_launches; i++)
			listed |= p->launches[i].job == j && p->launches[i].block == v->block;
		if (v->place != SCHED_PLACE_LAUNCH || strcmp(block_name(in, v->block), e->tok[3]) ||
		    v->eta != in->now || !listed)
			MISS(c, e->line, "job %s: want launch on %s; got %s", e->tok[2], e->tok[3],
			     got);
	} else if (strcmp(what, "reserve") == 0) {
		need_tokens(c, e, 5);
		cbq_ms at = time_of(c, e->line, e->tok[4]);
		if (v->place != SCHED_PLACE_RESERVE ||
		    strcmp(block_name(in, v->block), e->tok[3]) || v->eta != at)
			MISS(c, e->line, "job %s: want reserve on %s at %+" PRId64 " min; got %s",
			     e->tok[2], e->tok[3], (at - in->now) / 60000, got);
	} else if (strcmp(what, "eta") == 0) {
		need_tokens(c, e, 4);
		cbq_ms at = strcmp(e->tok[3], "none") == 0 ? SCHED_NO_ETA :
							     time_of(c, e->line, e->tok[3]);
		if (v->eta != at || (at == SCHED_NO_ETA) != (v->place == SCHED_PLACE_NONE))
			MISS(c, e->line, "job %s: want eta %s; got %s", e->tok[2], e->tok[3], got);
	} else if (strcmp(what, "reason") == 0) {
		need_tokens(c, e, 4);
		if (strcmp(sched_reason_name(v->reason), e->tok[3]) != 0 ||
		    (e->n > 4 && !strstr(reason, e->tok[4])))
			MISS(c, e->line, "job %s: want reason %s%s%s; got %s", e->tok[2], e->tok[3],
			     e->n > 4 ? " with " : "", e->n > 4 ? e->tok[4] : "", got);
	} else if (strcmp(what, "position") == 0) {
		need_tokens(c, e, 4);
		if (v->position != strtoul(e->tok[3], NULL, 10))
			MISS(c, e->line, "job %s at position %u, want %s", e->tok[2], v->position,
			     e->tok[3]);
	} else {
		FAIL(c, e->line, "unknown expectation %s", what);
	}
}

/* Runs one case: its expectations, then (shuffles > 0) the same input in
 * that many random orders must give the identical plan. */
static void run_case(struct tcase *c, int shuffles)
{
	struct sched_plan plan = { 0 };
	struct cbq_error err = { 0 };

	finish_case(c);
	enum cbq_err rc = sched_plan(&c->t.in, &plan, &err);
	for (int i = 0; i < c->n_ex; i++) {
		const struct expect *e = &c->ex[i];
		if (e->n >= 3 && strcmp(e->tok[1], "error") == 0) {
			if (rc != CBQ_ERR_INVALID || strcmp(err.field, e->tok[2]) != 0)
				MISS(c, e->line, "want refusal naming %s; got %s (%s: %s)",
				     e->tok[2], cbq_err_name(rc), err.field, err.msg);
			if (err.msg[0] == '\0')
				MISS(c, e->line, "refusal without a message");
			sched_plan_free(&plan);
			return;
		}
	}
	if (rc != CBQ_OK)
		FAIL(c, c->line, "sched_plan: %s: %s", err.field, err.msg);
	for (int i = 0; i < c->n_ex; i++)
		check(c, &c->ex[i], &c->t.in, &plan);

	char *want = plan_dump(&c->t.in, &plan);
	struct tin *shuffled = malloc(sizeof(*shuffled));
	for (int s = 1; s <= shuffles; s++) {
		struct sched_plan p2 = { 0 };
		tin_shuffle(&c->t, shuffled, (uint64_t)s * 7919);
		cr_assert_eq(sched_plan(&shuffled->in, &p2, &err), CBQ_OK);
		char *got = plan_dump(&shuffled->in, &p2);
		if (strcmp(got, want) != 0)
			MISS(c, c->line,
			     "shuffle %d changed the plan:\n--- in order\n%s--- shuffled\n%s", s,
			     want, got);
		bool same = strcmp(got, want) == 0;
		free(got);
		sched_plan_free(&p2);
		if (!same)
			break;
	}
	free(shuffled);
	free(want);
	sched_plan_free(&plan);
}

static void free_case(struct tcase *c)
{
	for (int i = 0; i < c->n_ex; i++)
		free(c->ex[i].buf);
	memset(c, 0, sizeof(*c));
}

static void start_case(struct tcase *c, const char *file, int line, const char *name)
{
	free_case(c);
	c->file = file;
	c->line = line;
	snprintf(c->name, sizeof(c->name), "%s", name);
	sched_settings_default(&c->t.set);
}

/* Runs every case of data/<file>; returns how many. */
static int run_file(const char *file, int shuffles)
{
	char path[1024], line[1024];
	struct tcase *c = calloc(1, sizeof(*c));
	int lineno = 0, cases = 0;
	bool open_case = false;

	snprintf(path, sizeof(path), "%s/%s", data_dir(), file);
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char copy[sizeof(line)], *tok[MAX_TOK];
		lineno++;
		memcpy(copy, line, sizeof(line));
		int n = split_tabs(line, tok, MAX_TOK);
		if (n == 0)
			continue;
		if (strcmp(tok[0], "case") == 0) {
			if (open_case)
				run_case(c, shuffles);
			cr_assert(n >= 2, "%s:%d: case NAME", file, lineno);
			start_case(c, file, lineno, tok[1]);
			open_case = true;
			cases++;
			continue;
		}
		cr_assert(open_case, "%s:%d: a row before the first case", file, lineno);
		if (strcmp(tok[0], "now") == 0) {
			cr_assert(n == 2 && parse_utc(tok[1], &c->t.now), "%s:%d: now TIME", file,
				  lineno);
			c->has_now = true;
			continue;
		}
		if (!c->has_now)
			FAIL(c, lineno, "the case needs a now line first");
		if (strcmp(tok[0], "set") == 0)
			row_set(c, lineno, tok, n);
		else if (strcmp(tok[0], "team") == 0)
			row_team(c, lineno, tok, n);
		else if (strcmp(tok[0], "account") == 0) {
			if (n != 3)
				FAIL(c, lineno, "account ID TEAM");
			uint32_t a = account_of(c, lineno, tok[1]);
			c->t.accounts[a].team = team_of(c, lineno, tok[2]);
		} else if (strcmp(tok[0], "block") == 0)
			row_block(c, lineno, tok, n);
		else if (strcmp(tok[0], "window") == 0)
			row_window(c, lineno, tok, n);
		else if (strcmp(tok[0], "job") == 0)
			row_job(c, lineno, tok, n);
		else if (strcmp(tok[0], "run") == 0)
			row_run(c, lineno, tok, n);
		else if (strcmp(tok[0], "expect") == 0) {
			if (c->n_ex == MAX_EXPECT)
				FAIL(c, lineno, "too many expectations");
			struct expect *e = &c->ex[c->n_ex++];
			e->line = lineno;
			e->buf = strdup(copy);
			e->n = split_tabs(e->buf, e->tok, MAX_TOK);
			if (e->n < 2)
				FAIL(c, lineno, "expect WHAT ...");
		} else
			FAIL(c, lineno, "unknown row %s", tok[0]);
	}
	if (open_case)
		run_case(c, shuffles);
	fclose(f);
	free_case(c);
	free(c);
	return cases;
}

static const char *const files[] = {
	"sched_place.tsv",  "sched_backfill.tsv", "sched_order.tsv",   "sched_policy.tsv",
	"sched_expiry.tsv", "sched_reason.tsv",	  "sched_invalid.tsv",
};

Test(sched, placement_follows_gang_consumer_type_az_and_cutoff_rules)
{
	cr_expect_gt(run_file("sched_place.tsv", 0), 10);
}

Test(sched, backfill_never_delays_a_reserved_job)
{
	cr_expect_gt(run_file("sched_backfill.tsv", 0), 3);
}

Test(sched, queue_order_follows_priority_windows_fair_share_and_ageing)
{
	cr_expect_gt(run_file("sched_order.tsv", 0), 5);
}

Test(sched, share_caps_and_team_quotas_hold_jobs_back)
{
	cr_expect_gt(run_file("sched_policy.tsv", 0), 3);
}

Test(sched, expiry_warns_then_requeues_or_expires_at_the_cutoff)
{
	cr_expect_gt(run_file("sched_expiry.tsv", 0), 3);
}

Test(sched, every_pending_job_gets_one_reason_with_numbers)
{
	cr_expect_gt(run_file("sched_reason.tsv", 0), 5);
}

Test(sched, invalid_input_is_refused_naming_the_field)
{
	cr_expect_gt(run_file("sched_invalid.tsv", 0), 5);
}

Test(sched, shuffled_input_gives_the_identical_plan)
{
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(files[i], "sched_invalid.tsv") != 0)
			run_file(files[i], 8);
}
