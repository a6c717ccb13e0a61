/*
 * Assumed-role credentials cache (broker/aws/rolecache.h): fresh until five
 * minutes before expiry, keyed by role and external id, dropped on demand,
 * least recently used evicted when full.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/rolecache.h"

static struct aws_sts_credentials creds(const char *key, int64_t expires_s)
{
	struct aws_sts_credentials c = {
		.access_key_id = strdup(key),
		.secret_access_key = strdup("secret"),
		.session_token = strdup("token"),
		.expiration = expires_s,
	};
	return c;
}

#define ARN "arn:aws:iam::111100000001:role/cbq-launcher"
#define MIN (60 * 1000)

Test(aws_rolecache, fresh_until_five_minutes_before_expiry)
{
	struct aws_rolecache c;
	struct aws_sts_credentials in = creds("ASIA1", 3600);
	cbq_ms expires = 3600 * 1000;

	aws_rolecache_init(&c, 0);
	aws_rolecache_put(&c, ARN, "ext-1", &in, 0);
	cr_assert_null(in.access_key_id, "ownership moves into the cache");
	cr_assert_not_null(aws_rolecache_get(&c, ARN, "ext-1", expires - 5 * MIN - 1));
	cr_assert_null(aws_rolecache_get(&c, ARN, "ext-1", expires - 5 * MIN));
	cr_assert_str_eq(aws_rolecache_get(&c, ARN, "ext-1", 0)->access_key_id, "ASIA1");
	aws_rolecache_free(&c);
}

Test(aws_rolecache, external_id_is_part_of_the_key)
{
	struct aws_rolecache c;
	struct aws_sts_credentials in = creds("ASIA1", 3600);

	aws_rolecache_init(&c, 0);
	aws_rolecache_put(&c, ARN, NULL, &in, 0);
	cr_assert_not_null(aws_rolecache_get(&c, ARN, "", 0));
	cr_assert_null(aws_rolecache_get(&c, ARN, "ext-1", 0));
	aws_rolecache_drop(&c, ARN, NULL);
	cr_assert_null(aws_rolecache_get(&c, ARN, NULL, 0));
	aws_rolecache_free(&c);
}

Test(aws_rolecache, put_replaces_and_full_cache_evicts_least_recently_used)
{
	struct aws_rolecache c;
	char arn[64];

	aws_rolecache_init(&c, 3);
	for (int i = 0; i < 3; i++) {
		struct aws_sts_credentials in = creds("old", 3600);
		snprintf(arn, sizeof(arn), "arn:aws:iam::11110000000%d:role/r", i);
		aws_rolecache_put(&c, arn, NULL, &in, i);
	}
	/* role 0 used most recently; role 1 is the least recently used */
	cr_assert_not_null(aws_rolecache_get(&c, "arn:aws:iam::111100000000:role/r", NULL, 10));
	struct aws_sts_credentials in = creds("new", 7200);
	aws_rolecache_put(&c, "arn:aws:iam::111100000009:role/r", NULL, &in, 11);
	cr_assert_eq(c.n, 3);
	cr_assert_null(aws_rolecache_get(&c, "arn:aws:iam::111100000001:role/r", NULL, 12));
	cr_assert_not_null(aws_rolecache_get(&c, "arn:aws:iam::111100000002:role/r", NULL, 12));

	struct aws_sts_credentials again = creds("newer", 7200);
	aws_rolecache_put(&c, "arn:aws:iam::111100000002:role/r", NULL, &again, 13);
	cr_assert_eq(c.n, 3);
	cr_assert_str_eq(aws_rolecache_get(&c, "arn:aws:iam::111100000002:role/r", NULL, 14)
				 ->access_key_id,
			 "newer");
	aws_rolecache_free(&c);
}
