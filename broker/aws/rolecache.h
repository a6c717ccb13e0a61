/*
 * Temporary credentials per consumer role (role ARN + external id), kept
 * until five minutes before they expire, at most a fixed number of roles
 * (the least recently used goes first). Pure: the caller passes now and
 * does the AssumeRole; this only remembers the answers.
 */
#ifndef CBQ_AWS_ROLECACHE_H
#define CBQ_AWS_ROLECACHE_H

#include <stddef.h>

#include "aws/sts.h"
#include "core/job.h"

enum {
	AWS_ROLECACHE_MAX = 4096,		 /* roles remembered */
	AWS_ROLECACHE_MARGIN_MS = 5 * 60 * 1000, /* re-assume this long before expiry */
};

struct aws_rolecache_entry {
	char *role_arn;
	char *external_id; /* "" when none */
	struct aws_sts_credentials creds;
	cbq_ms expires; /* creds.expiration in ms */
	cbq_ms used;	/* last lookup, for eviction */
};

struct aws_rolecache {
	struct aws_rolecache_entry *items;
	size_t n, cap, max;
};

/* max 0 means AWS_ROLECACHE_MAX. */
void aws_rolecache_init(struct aws_rolecache *c, size_t max);
/* Wipes and frees every entry. */
void aws_rolecache_free(struct aws_rolecache *c);

/* Credentials for the role valid past now + the margin, or NULL. The
 * pointer stays valid until the next put or drop. external_id may be NULL. */
const struct aws_sts_credentials *aws_rolecache_get(struct aws_rolecache *c, const char *role_arn,
						    const char *external_id, cbq_ms now);

/* Remembers *creds for the role, taking ownership (*creds is zeroed);
 * replaces what was there; evicts the least recently used when full. */
void aws_rolecache_put(struct aws_rolecache *c, const char *role_arn, const char *external_id,
		       struct aws_sts_credentials *creds, cbq_ms now);

/* Forgets the role (AWS rejected its credentials). */
void aws_rolecache_drop(struct aws_rolecache *c, const char *role_arn, const char *external_id);

#endif
