/* cbqd's configuration: the documented example and the code agree, and
 * bad files are refused with the line named. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"

static const char *example_path(void)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/../../../deploy/cbqd.conf.example",
		 getenv("CBQ_TESTDATA"));
	return path;
}

Test(config, example_documents_every_key_and_loads)
{
	struct cbqd_config cfg;
	struct cbq_error err;
	char line[1024], seen[64][64];
	int n = 0;
	FILE *f = fopen(example_path(), "r");

	cr_assert(f, "cannot open %s", example_path());
	while (fgets(line, sizeof(line), f) && n < 64)
		if (sscanf(line, " %63[a-z_] =", seen[n]) == 1 && line[0] != '#')
			n++;
	fclose(f);
	for (int i = 0; cbqd_config_keys[i]; i++) {
		bool found = false;
		for (int j = 0; j < n; j++)
			found |= strcmp(seen[j], cbqd_config_keys[i]) == 0;
		cr_expect(found, "key %s is not documented in deploy/cbqd.conf.example",
			  cbqd_config_keys[i]);
	}
	for (int j = 0; j < n; j++) {
		bool known = false;
		for (int i = 0; cbqd_config_keys[i]; i++)
			known |= strcmp(seen[j], cbqd_config_keys[i]) == 0;
		cr_expect(known, "example documents %s, which cbqd does not know", seen[j]);
	}
	cbqd_config_defaults(&cfg);
	cr_assert_eq(cbqd_config_load(&cfg, example_path(), &err), CBQ_OK, "%s", err.msg);
	cr_expect_str_eq(cfg.listen, "127.0.0.1:8443");
	cr_expect_eq(cfg.max_body_bytes, 1048576);
}

Test(config, bad_values_name_key_and_line)
{
	struct cbqd_config cfg;
	struct cbq_error err;
	char path[] = "/tmp/cbq-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "# comment\nlisten = 127.0.0.1:1\n\ndb_pool_size = 0\n");
	fclose(f);
	cbqd_config_defaults(&cfg);
	cr_expect_eq(cbqd_config_load(&cfg, path, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, ":4:"), "%s", err.msg);
	cr_expect(strstr(err.msg, "db_pool_size"), "%s", err.msg);
	cr_expect_str_eq(cfg.listen, "127.0.0.1:1");

	cr_expect_eq(cbqd_config_set(&cfg, "no_such_key", "1", &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "no_such_key");
	cr_expect_eq(cbqd_config_set(&cfg, "insecure_dev_auth", "maybe", &err), CBQ_ERR_INVALID);
	cr_expect_eq(cbqd_config_set(&cfg, "insecure_dev_auth", "true", &err), CBQ_OK);
	cr_expect(cfg.insecure_dev_auth);
	unlink(path);
}
