/*
 * ctest deploy.config_keys: deploy/cbqd.conf.example and cbqd's key table
 * (cbqd_config_keys) name the same keys, each documented once as `key = ...`
 * or, for a key shown but not set, `# key = ...`; and the file loads and
 * validates as cbqd serve would read it. Not a test of the keys' meanings
 * (tests/unit/test_config.c).
 *   cbq-config-keys FILE
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

enum { MAX_KEYS = 256, MAX_KEY_LEN = 64, MAX_LINE = 16384 };

struct doc_key {
	char name[MAX_KEY_LEN];
	int line;
};

/* The key a line documents, or false: `key =` or `#key =` / `# key =`
 * (one optional space, so indented prose in comments is not taken). */
static bool documented_key(const char *line, char *key)
{
	const char *p = line;
	size_t n;

	if (*p == '#') {
		p++;
		if (*p == ' ')
			p++;
	}
	n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
	if (n == 0 || n >= MAX_KEY_LEN || !(*p >= 'a' && *p <= 'z'))
		return false;
	const char *q = p + n;
	q += strspn(q, " \t");
	if (*q != '=')
		return false;
	memcpy(key, p, n);
	key[n] = '\0';
	return true;
}

static bool known(const char *key)
{
	for (size_t i = 0; cbqd_config_keys[i]; i++)
		if (strcmp(cbqd_config_keys[i], key) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static char line[MAX_LINE];
	static struct doc_key doc[MAX_KEYS];
	size_t n_doc = 0;
	int lineno = 0, failures = 0;
	struct cbqd_config cfg;
	struct cbq_error err = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: cbq-config-keys FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		char key[MAX_KEY_LEN];
		lineno++;
		if (!documented_key(line, key))
			continue;
		if (n_doc == MAX_KEYS) {
			fprintf(stderr, "FAIL: %s: more than %d keys\n", argv[1], MAX_KEYS);
			fclose(f);
			return 1;
		}
		for (size_t j = 0; j < n_doc; j++)
			if (strcmp(doc[j].name, key) == 0) {
				fprintf(stderr,
					"FAIL: %s:%d: %s is documented again (first at line %d)\n",
					argv[1], lineno, key, doc[j].line);
				failures++;
			}
		snprintf(doc[n_doc].name, sizeof(doc[n_doc].name), "%s", key);
		doc[n_doc++].line = lineno;
	}
	fclose(f);

	for (size_t j = 0; j < n_doc; j++)
		if (!known(doc[j].name)) {
			fprintf(stderr,
				"FAIL: %s:%d: documents %s, which cbqd does not know (broker/app.c)\n",
				argv[1], doc[j].line, doc[j].name);
			failures++;
		}
	size_t n_code = 0;
	for (; cbqd_config_keys[n_code]; n_code++) {
		bool found = false;
		for (size_t j = 0; j < n_doc && !found; j++)
			found = strcmp(doc[j].name, cbqd_config_keys[n_code]) == 0;
		if (!found) {
			fprintf(stderr,
				"FAIL: cbqd's key %s is not in %s (as `%s = ...` or `# %s = ...`)\n",
				cbqd_config_keys[n_code], argv[1], cbqd_config_keys[n_code],
				cbqd_config_keys[n_code]);
			failures++;
		}
	}

	cbqd_config_defaults(&cfg);
	if (cbqd_config_load(&cfg, argv[1], &err) != CBQ_OK ||
	    cbqd_config_check(&cfg, &err) != CBQ_OK) {
		fprintf(stderr, "FAIL: cbqd does not accept %s: %s\n", argv[1], err.msg);
		failures++;
	}
	if (failures)
		return 1;
	printf("ok: %zu keys in the code and in %s, and it loads\n", n_code, argv[1]);
	return 0;
}
