/*
 * RAM principal expansion, table-driven from data/inv_principals.tsv over
 * the organization of data/inv_principals_org.tsv, plus the limits. Not the
 * RAM or Organizations calls that produce the input.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/principals.h"
#include "inventory/text.h"
#include "test_inv_tsv.h"

enum { MAX_ACCOUNTS = 16, MAX_PRINCIPALS = 16 };

struct org {
	struct tsv t; /* owns the strings */
	char lines[MAX_ACCOUNTS][TSV_LINE_MAX];
	char *parents[MAX_ACCOUNTS][INV_PARENTS_MAX];
	struct inv_org_account accounts[MAX_ACCOUNTS];
	size_t n;
};

static void load_org(struct org *o)
{
	tsv_open(&o->t, "inv_principals_org.tsv");
	o->n = 0;
	while (tsv_next(&o->t)) {
		cr_assert_lt(o->n, MAX_ACCOUNTS);
		/* keep the row: the tsv buffer is reused by the next line */
		char *line = o->lines[o->n];
		char *id = tsv_at(&o->t, 0), *org = tsv_at(&o->t, 1), *par = tsv_at(&o->t, 2);
		snprintf(line, TSV_LINE_MAX, "%s\t%s\t%s", id, org, par);
		id = line;
		org = strchr(id, '\t');
		*org++ = '\0';
		par = strchr(org, '\t');
		*par++ = '\0';
		struct inv_org_account *a = &o->accounts[o->n];
		a->id = id;
		a->org_id = strcmp(org, "-") == 0 ? NULL : org;
		a->n_parents = tsv_split(par, ',', o->parents[o->n], INV_PARENTS_MAX);
		a->parents = (const char *const *)o->parents[o->n];
		o->n++;
	}
	tsv_close(&o->t);
}

Test(inv_principals, cases_from_table)
{
	static struct org o;
	struct tsv t;
	int rows = 0;

	load_org(&o);
	tsv_open(&t, "inv_principals.tsv");
	while (tsv_next(&t)) {
		char *principals[MAX_PRINCIPALS], *want[MAX_ACCOUNTS + 1];
		const char *ids[MAX_ACCOUNTS + 1];
		struct inv_consumers out;
		struct cbq_error err = { 0 };
		const char *where = tsv_where(&t);

		rows++;
		struct inv_share in = {
			.owner = tsv_at(&t, 1),
			.principals = (const char *const *)principals,
			.n_principals = tsv_split(tsv_at(&t, 2), ',', principals, MAX_PRINCIPALS),
			.accounts = o.accounts,
			.n_accounts = o.n,
		};
		cr_assert_eq(inv_block_consumers(&in, ids, MAX_ACCOUNTS + 1, &out, &err), CBQ_OK,
			     "%s: %s", where, err.msg);
		size_t n = tsv_split(tsv_at(&t, 3), ',', want, MAX_ACCOUNTS + 1);
		cr_expect_eq(out.n, n, "%s (%s): %zu consumers, want %zu", where, tsv_at(&t, 0),
			     out.n, n);
		for (size_t i = 0; i < n && i < out.n; i++)
			cr_expect_str_eq(out.ids[i], want[i], "%s: consumer %zu", where, i + 1);
		cr_expect_eq(out.ids, ids, "ids live in the caller's storage");
		cr_expect_eq(out.n_notes, (size_t)atoi(tsv_at(&t, 4)), "%s: %zu notes", where,
			     out.n_notes);
		if (strcmp(tsv_at(&t, 5), "-") != 0 && out.n_notes > 0) {
			char *pieces[4];
			size_t np = tsv_split(tsv_at(&t, 5), '|', pieces, 4);
			for (size_t i = 0; i < np; i++)
				cr_expect(strstr(out.notes[0].text, pieces[i]),
					  "%s: note \"%s\" lacks \"%s\"", where, out.notes[0].text,
					  pieces[i]);
		}
		for (size_t i = 0; i < out.n_notes && i < INV_PRINCIPAL_NOTES_MAX; i++) {
			cr_expect(inv_text_is_clean(out.notes[i].text), "%s", where);
			cr_expect_lt(out.notes[i].principal, in.n_principals, "%s", where);
		}
	}
	tsv_close(&t);
	cr_expect_gt(rows, 20, "the table looks truncated");
}

Test(inv_principals, notes_are_capped_but_all_counted)
{
	static const char *principals[40];
	const char *ids[1];
	struct inv_consumers out;
	struct inv_share in = { .owner = "999999999999",
				.principals = principals,
				.n_principals = 40 };
	static char huge[INV_PRINCIPAL_LEN_MAX + 10];

	memset(huge, '1', sizeof(huge) - 1);
	for (size_t i = 0; i < 40; i++)
		principals[i] = i == 3 ? NULL : i == 5 ? huge : "bogus\x01\xff";
	cr_assert_eq(inv_block_consumers(&in, ids, 1, &out, NULL), CBQ_OK);
	cr_expect_eq(out.n_notes, 40);
	cr_expect_eq(out.notes[3].principal, 3);
	cr_expect(strstr(out.notes[3].text, "empty"), "%s", out.notes[3].text);
	cr_expect(strstr(out.notes[5].text, "longer than 2048 bytes"), "%s", out.notes[5].text);
	cr_expect(inv_text_is_clean(out.notes[0].text), "%s", out.notes[0].text);
	cr_expect_eq(out.n, 1);
	cr_expect_str_eq(out.ids[0], "999999999999");
}

Test(inv_principals, limits_and_bad_accounts_are_refused)
{
	static const char *principals[INV_PRINCIPALS_MAX + 1];
	static const char *ids[INV_ORG_ACCOUNTS_MAX + 2];
	const char *parents[INV_PARENTS_MAX + 1] = { 0 };
	struct inv_org_account acct = { .id = "111111111111",
					.org_id = "o-aaaaaaaaaa",
					.parents = parents,
					.n_parents = INV_PARENTS_MAX + 1 };
	struct inv_consumers out = { .n = 77 };
	struct cbq_error err = { 0 };
	struct inv_share in = { .owner = "999999999999", .accounts = &acct, .n_accounts = 1 };

	cr_expect_eq(inv_block_consumers(&in, ids, 2, &out, &err), CBQ_ERR_INVALID, "parents");
	acct.n_parents = 0;
	cr_expect_eq(inv_block_consumers(&in, ids, 1, &out, &err), CBQ_ERR_INVALID, "cap");
	cr_expect_str_eq(err.field, "ids");
	acct.id = "1111";
	cr_expect_eq(inv_block_consumers(&in, ids, 2, &out, &err), CBQ_ERR_INVALID, "account");
	acct.id = "111111111111";
	in.owner = "owner";
	cr_expect_eq(inv_block_consumers(&in, ids, 2, &out, &err), CBQ_ERR_INVALID, "owner");
	cr_expect_str_eq(err.field, "owner");
	in.owner = "999999999999";
	in.principals = principals;
	in.n_principals = INV_PRINCIPALS_MAX + 1;
	cr_expect_eq(inv_block_consumers(&in, ids, 2, &out, &err), CBQ_ERR_TOO_LARGE);
	in.n_principals = 0;
	in.n_accounts = INV_ORG_ACCOUNTS_MAX + 1;
	cr_expect_eq(inv_block_consumers(&in, ids, INV_ORG_ACCOUNTS_MAX + 2, &out, &err),
		     CBQ_ERR_TOO_LARGE);
	cr_expect_eq(out.n, 77, "output written on failure");
}

/* Many accounts and principals: the expansion stays cheap (sorted lookups). */
Test(inv_principals, large_organization_expands)
{
	enum { N = 20000, P = 1000 };
	static char idbuf[N][13], pbuf[P][96], ous[N][24];
	static const char *par[N][2];
	static struct inv_org_account accts[N];
	static const char *principals[P], *ids[N + 1];
	struct inv_consumers out;

	for (int i = 0; i < N; i++) {
		snprintf(idbuf[i], 13, "%012d", 100000 + i);
		snprintf(ous[i], sizeof(ous[i]), "ou-abcd-%08d", i % 500);
		par[i][0] = ous[i];
		par[i][1] = "r-abcd";
		accts[i] = (struct inv_org_account){
			.id = idbuf[i], .org_id = "o-aaaaaaaaaa", .parents = par[i], .n_parents = 2
		};
	}
	/* 500 OU principals (even OUs) and 500 account principals */
	for (int i = 0; i < P; i++) {
		if (i < 500)
			snprintf(pbuf[i], sizeof(pbuf[i]),
				 "arn:aws:organizations::999999999999:ou/o-aaaaaaaaaa/ou-abcd-%08d",
				 (i * 2) % 500);
		else
			snprintf(pbuf[i], sizeof(pbuf[i]), "%012d", 100000 + i * 7);
		principals[i] = pbuf[i];
	}
	struct inv_share in = { .owner = "999999999999",
				.principals = principals,
				.n_principals = P,
				.accounts = accts,
				.n_accounts = N };
	cr_assert_eq(inv_block_consumers(&in, ids, N + 1, &out, NULL), CBQ_OK);
	cr_expect_eq(out.n_notes, 0);
	for (size_t i = 1; i < out.n; i++)
		cr_assert_lt(strcmp(out.ids[i - 1], out.ids[i]), 0, "sorted and unique");
	/* every account of an even OU, plus odd-OU accounts named directly, plus the owner */
	size_t want = 1;
	for (int i = 0; i < N; i++) {
		bool direct = false;
		for (int k = 500; k < P && !direct; k++)
			direct = 100000 + k * 7 == 100000 + i;
		want += (i % 500) % 2 == 0 || direct;
	}
	cr_expect_eq(out.n, want);
}
