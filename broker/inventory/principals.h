/*
 * Who may use a block: the RAM principals of the block's share (accounts,
 * the organization, OUs) expanded against the accounts registered in cbq,
 * whose place in the organization (org id, chain of parents from
 * Organizations ListParents) the caller supplies. Pure: no RAM or
 * Organizations calls; the engine reads those and stores the result as the
 * block's consumers.
 *
 * Choices (AWS.md §9.4): the owner may always use its block. An account
 * principal counts only if the account is registered. The organization
 * covers every registered account whose org id matches its o-…. An OU
 * covers every registered account of that organization whose chain of
 * parents contains the OU anywhere, so nested OUs are included: RAM
 * documents sharing with an OU as sharing with the accounts in it, and
 * AWS.md leaves nesting unverified, so cbq errs towards including. Should
 * AWS disagree, the launch fails with InvalidCapacityReservationId.NotFound
 * and the job fails with that message, instead of a job silently never
 * being placed. IAM role and user principals and service principals cannot
 * receive a Capacity Block; they are reported like malformed ones, and
 * neither stops the rest from being expanded.
 */
#ifndef CBQ_INVENTORY_PRINCIPALS_H
#define CBQ_INVENTORY_PRINCIPALS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "inventory/jobfsm.h"

enum {
	INV_PRINCIPALS_MAX = 1000,     /* principals of one block's shares */
	INV_PRINCIPAL_LEN_MAX = 2048,  /* bytes of one principal */
	INV_ORG_ACCOUNTS_MAX = 100000, /* registered accounts */
	INV_PARENTS_MAX = 8,	       /* Organizations nests OUs 5 deep under the root */
	INV_PRINCIPAL_NOTES_MAX = 16,  /* notes kept (all are counted) */
};

/* A registered account and where it sits. Strings are borrowed. */
struct inv_org_account {
	const char *id;		    /* 12 digits */
	const char *org_id;	    /* o-…, NULL or "" when not in an organization (or unknown) */
	const char *const *parents; /* ou-… up to r-…, nearest first (ListParents, repeated) */
	size_t n_parents;	    /* ≤ INV_PARENTS_MAX */
};

struct inv_share {
	const char *owner; /* the block's owner account, 12 digits */
	const char *const *principals;
	size_t n_principals; /* ≤ INV_PRINCIPALS_MAX */
	const struct inv_org_account *accounts;
	size_t n_accounts; /* ≤ INV_ORG_ACCOUNTS_MAX */
};

struct inv_principal_note {
	size_t principal; /* index into inv_share.principals */
	char text[INV_REASON_MAX];
};

struct inv_consumers {
	/* Sorted (strcmp), without duplicates, the owner included; borrowed
	 * from the input (the owner and the accounts' ids). Storage is the
	 * caller's: `ids` passed to inv_block_consumers. */
	const char **ids;
	size_t n;
	struct inv_principal_note notes[INV_PRINCIPAL_NOTES_MAX];
	size_t n_notes; /* every principal not used (malformed or not for blocks) */
};

/*
 * Expands in into out, writing the account ids into ids (cap entries; cap
 * must be ≥ n_accounts + 1). Refuses (CBQ_ERR_INVALID, naming the field) an
 * owner or a registered account that is not 12 digits, more than
 * INV_PARENTS_MAX parents, cap too small; over the maxima above
 * CBQ_ERR_TOO_LARGE. A principal that cannot be read is not an error: it is
 * counted and noted, and the others still count. *out is written only on
 * success.
 */
enum cbq_err inv_block_consumers(const struct inv_share *in, const char **ids, size_t cap,
				 struct inv_consumers *out, struct cbq_error *err) CBQ_MUST_CHECK;

#endif
