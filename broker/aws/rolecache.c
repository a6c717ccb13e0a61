/* Assumed-role credentials cache; see rolecache.h. A flat array: the broker
 * talks to tens or hundreds of accounts, and a lookup is one pass. */
#include "aws/rolecache.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

void aws_rolecache_init(struct aws_rolecache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max ? max : AWS_ROLECACHE_MAX;
}

static void entry_free(struct aws_rolecache_entry *e)
{
	free(e->role_arn);
	free(e->external_id);
	aws_sts_credentials_free(&e->creds);
}

void aws_rolecache_free(struct aws_rolecache *c)
{
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->items[i]);
	free(c->items);
	memset(c, 0, sizeof(*c));
}

static struct aws_rolecache_entry *find(struct aws_rolecache *c, const char *arn, const char *ext)
{
	if (!ext)
		ext = "";
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->items[i].role_arn, arn) == 0 &&
		    strcmp(c->items[i].external_id, ext) == 0)
			return &c->items[i];
	return NULL;
}

static void remove_at(struct aws_rolecache *c, struct aws_rolecache_entry *e)
{
	entry_free(e);
	*e = c->items[--c->n];
}

const struct aws_sts_credentials *aws_rolecache_get(struct aws_rolecache *c, const char *role_arn,
						    const char *external_id, cbq_ms now)
{
	struct aws_rolecache_entry *e = find(c, role_arn, external_id);

	if (!e || e->expires - AWS_ROLECACHE_MARGIN_MS <= now)
		return NULL;
	e->used = now;
	return &e->creds;
}

void aws_rolecache_put(struct aws_rolecache *c, const char *role_arn, const char *external_id,
		       struct aws_sts_credentials *creds, cbq_ms now)
{
	struct aws_rolecache_entry *e = find(c, role_arn, external_id);

	if (e) {
		remove_at(c, e);
	} else if (c->n == c->max) {
		struct aws_rolecache_entry *old = &c->items[0];
		for (size_t i = 1; i < c->n; i++)
			if (c->items[i].used < old->used)
				old = &c->items[i];
		remove_at(c, old);
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct aws_rolecache_entry *p = realloc(c->items, cap * sizeof(*p));
		if (!p)
			abort();
		c->items = p;
		c->cap = cap;
	}
	e = &c->items[c->n++];
	e->role_arn = cbq_xstrdup(role_arn ? role_arn : "");
	e->external_id = cbq_xstrdup(external_id ? external_id : "");
	e->creds = *creds;
	e->expires = (cbq_ms)creds->expiration * 1000;
	e->used = now;
	memset(creds, 0, sizeof(*creds));
}

void aws_rolecache_drop(struct aws_rolecache *c, const char *role_arn, const char *external_id)
{
	struct aws_rolecache_entry *e = find(c, role_arn, external_id);

	if (e)
		remove_at(c, e);
}
