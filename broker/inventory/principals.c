/*
 * RAM principals → the registered accounts that may use a block (the
 * choices are in principals.h). Parsing follows the identifier patterns of
 * AWS.md §9.3; nothing here calls RAM or Organizations.
 */
#include "inventory/principals.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/job.h"
#include "inventory/text.h"

enum kind {
	P_ACCOUNT,
	P_ORG,
	P_OU,
	P_BAD,
};

/* One principal, read. Strings point into the principal (not NUL-ended
 * where they stop at a '/'), hence the lengths. */
struct parsed {
	enum kind kind;
	const char *id; /* account, o-… or ou-… */
	size_t id_len;
	const char *org; /* for an OU: its o-… */
	size_t org_len;
};

static bool lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Length of the run of [a-z0-9] at s. */
static size_t run(const char *s)
{
	size_t n = 0;

	while (lower_or_digit(s[n]))
		n++;
	return n;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* o-[a-z0-9]{10,32}; returns its length or 0. */
static size_t org_id_len(const char *s)
{
	size_t n;

	if (strncmp(s, "o-", 2) != 0)
		return 0;
	n = run(s + 2);
	return n >= 10 && n <= 32 ? n + 2 : 0;
}

/* ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}; returns its length or 0. */
static size_t ou_id_len(const char *s)
{
	size_t a, b;

	if (strncmp(s, "ou-", 3) != 0)
		return 0;
	a = run(s + 3);
	if (a < 4 || a > 32 || s[3 + a] != '-')
		return 0;
	b = run(s + 4 + a);
	return b >= 8 && b <= 32 ? 4 + a + b : 0;
}

static const char *skip_arn_prefix(const char *p)
{
	static const char *const prefixes[] = { "arn:aws:", "arn:aws-cn:", "arn:aws-us-gov:" };

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
			return p + strlen(prefixes[i]);
	return p;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Reads principal p; on failure writes why into why (and kind is P_BAD). */
static struct parsed parse(const char *p, char *why, size_t why_size)
{
	struct parsed r = { .kind = P_BAD };
	size_t n;

	if (!p || !p[0]) {
		inv_textf(why, why_size, "empty");
		return r;
	}
	if (strnlen(p, INV_PRINCIPAL_LEN_MAX + 1) > INV_PRINCIPAL_LEN_MAX) {
		inv_textf(why, why_size, "longer than %d bytes", INV_PRINCIPAL_LEN_MAX);
		return r;
	}
	if (cbq_is_account_id(p))
		return (struct parsed){ .kind = P_ACCOUNT, .id = p, .id_len = 12 };

	/* RAM returns full ARNs; its model's examples drop "arn:aws:", so both are read. */
	const char *q = skip_arn_prefix(p);
	if (strncmp(q, "iam::", 5) == 0 || ends_with(p, ".amazonaws.com")) {
		inv_textf(why, why_size, "an IAM or service principal cannot use a Capacity Block");
		return r;
	}
	if (strncmp(q, "organizations::", 15) != 0 || !digits(q + 15, 12) || q[27] != ':') {
		inv_textf(why, why_size,
			  "not an account id nor an organization or OU ARN "
			  "(arn:aws:organizations::<12 digits>:…)");
		return r;
	}
	q += 28;
	if (strncmp(q, "organization/", 13) == 0) {
		q += 13;
		if ((n = org_id_len(q)) && q[n] == '\0')
			return (struct parsed){ .kind = P_ORG, .id = q, .id_len = n };
		inv_textf(why, why_size, "the organization id is not o-<10..32 letters or digits>");
		return r;
	}
	if (strncmp(q, "ou/", 3) == 0) {
		size_t org = org_id_len(q + 3);
		const char *ou = q + 3 + org + 1;
		if (org && q[3 + org] == '/' && (n = ou_id_len(ou)) && ou[n] == '\0')
			return (struct parsed){
				.kind = P_OU, .id = ou, .id_len = n, .org = q + 3, .org_len = org
			};
		inv_textf(why, why_size, "the OU ARN is not ou/o-…/ou-…-…");
		return r;
	}
	inv_textf(why, why_size, "an Organizations ARN that is neither the organization nor an OU");
	return r;
}

/* s (NUL-ended) equals the n bytes at id. */
static bool eq(const char *s, const char *id, size_t n)
{
	return s && strncmp(s, id, n) == 0 && s[n] == '\0';
}

static int cmp_parsed(const void *a, const void *b)
{
	const struct parsed *x = a, *y = b;
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
	int c = memcmp(x->id, y->id, n);

	return c ? c : (x->id_len > y->id_len) - (x->id_len < y->id_len);
}

/* First of the sorted tab[0..n) whose id is ≥ key (key NUL-ended). */
static size_t lower_bound(const struct parsed *tab, size_t n, const char *key)
{
	struct parsed k = { .id = key, .id_len = strlen(key) };
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_parsed(&tab[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Does a principal of tab (sorted) name key, within organization org
 * (NULL: any)? */
static bool named(const struct parsed *tab, size_t n, const char *key, const char *org)
{
	for (size_t i = lower_bound(tab, n, key); i < n && eq(key, tab[i].id, tab[i].id_len); i++)
		if (!tab[i].org || eq(org, tab[i].org, tab[i].org_len))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static enum cbq_err check(const struct inv_share *in, size_t cap, struct cbq_error *err)
{
	if (!in->owner || !cbq_is_account_id(in->owner))
		return cbq_fail(err, CBQ_ERR_INVALID, "owner",
				"the block's owner is not 12 digits");
	if (in->n_principals > INV_PRINCIPALS_MAX)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "principals",
				"%zu principals; at most %d are read", in->n_principals,
				INV_PRINCIPALS_MAX);
	if (in->n_accounts > INV_ORG_ACCOUNTS_MAX)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "accounts",
				"%zu accounts; at most %d are read", in->n_accounts,
				INV_ORG_ACCOUNTS_MAX);
	if ((in->n_principals && !in->principals) || (in->n_accounts && !in->accounts))
		return cbq_fail(err, CBQ_ERR_INVALID, "principals",
				"principals or accounts missing");
	if (cap < in->n_accounts + 1)
		return cbq_fail(err, CBQ_ERR_INVALID, "ids",
				"room for %zu ids; %zu accounts and the owner need %zu", cap,
				in->n_accounts, in->n_accounts + 1);
	for (size_t i = 0; i < in->n_accounts; i++) {
		const struct inv_org_account *a = &in->accounts[i];
		if (!a->id || !cbq_is_account_id(a->id))
			return cbq_fail(err, CBQ_ERR_INVALID, "accounts",
					"registered account %zu is not 12 digits", i + 1);
		if (a->n_parents > INV_PARENTS_MAX || (a->n_parents && !a->parents))
			return cbq_fail(err, CBQ_ERR_INVALID, "accounts",
					"account %s: %zu parents; Organizations nests at most %d",
					a->id, a->n_parents, INV_PARENTS_MAX);
	}
	return CBQ_OK;
}

enum cbq_err inv_block_consumers(const struct inv_share *in, const char **ids, size_t cap,
				 struct inv_consumers *out, struct cbq_error *err)
{
	/* by kind, sorted by id: accounts, organizations, OUs */
	struct parsed *tab[3];
	size_t ntab[3] = { 0 };
	struct inv_consumers res = { .ids = ids };
	enum cbq_err rc;

	if ((rc = check(in, cap, err)))
		return rc;
	size_t np = in->n_principals ? in->n_principals : 1;
	/* ≤ 3 × INV_PRINCIPALS_MAX entries: capped above, so the OOM hook may abort */
	struct parsed *all = cbq_xcalloc(3 * np, sizeof(*all));
	for (int k = 0; k < 3; k++)
		tab[k] = all + (size_t)k * np;

	for (size_t i = 0; i < in->n_principals; i++) {
		char why[INV_REASON_MAX / 2];
		struct parsed p = parse(in->principals[i], why, sizeof(why));
		if (p.kind != P_BAD) {
			tab[p.kind][ntab[p.kind]++] = p;
			continue;
		}
		if (res.n_notes < INV_PRINCIPAL_NOTES_MAX) {
			struct inv_principal_note *note = &res.notes[res.n_notes];
			note->principal = i;
			inv_textf(note->text, sizeof(note->text),
				  "principal %zu \"%.80s\": %s; ignored", i + 1,
				  in->principals[i] ? in->principals[i] : "", why);
		}
		res.n_notes++;
	}
	for (int k = 0; k < 3; k++)
		qsort(tab[k], ntab[k], sizeof(struct parsed), cmp_parsed);

	ids[res.n++] = in->owner;
	for (size_t i = 0; i < in->n_accounts; i++) {
		const struct inv_org_account *a = &in->accounts[i];
		bool org_member = a->org_id && a->org_id[0];
		bool may = named(tab[P_ACCOUNT], ntab[P_ACCOUNT], a->id, NULL) ||
			   (org_member && named(tab[P_ORG], ntab[P_ORG], a->org_id, NULL));
		for (size_t k = 0; !may && org_member && k < a->n_parents; k++)
			may = a->parents[k] &&
			      named(tab[P_OU], ntab[P_OU], a->parents[k], a->org_id);
		if (may)
			ids[res.n++] = a->id;
	}
	free(all);

	qsort(ids, res.n, sizeof(*ids), cmp_str);
	size_t w = 0;
	for (size_t r = 0; r < res.n; r++)
		if (w == 0 || strcmp(ids[w - 1], ids[r]) != 0)
			ids[w++] = ids[r];
	res.n = w;
	*out = res;
	return CBQ_OK;
}
