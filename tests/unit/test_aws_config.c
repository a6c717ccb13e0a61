/*
 * AWS settings resolution (broker/aws/config.h) and the INI reader
 * (broker/aws/ini.h). The cases are data: each directory under
 * data/aws_config/ holds `env` (NAME=VALUE lines), optional `config` and
 * `credentials` files and `expect` ("key value" lines; see
 * data/aws_config/README). Limits that need big inputs are generated here.
 * Every error message and source label is checked to hold no secret.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aws/config.h"
#include "aws/ini.h"

/* ---- reading a case */

#define MAX_VARS 64
#define MAX_SECRETS 64

struct tcase {
	char name[256];
	char *env_text, *config, *credentials, *expect;
	const char *names[MAX_VARS], *values[MAX_VARS];
	size_t n_vars;
	const char *secrets[MAX_SECRETS];
	size_t n_secrets;
	char *copies[2]; /* the file texts cut into lines, which secrets point into */
};

static char *slurp(const char *dir, const char *file)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!(f = fopen(path, "rb")))
		return NULL;
	char *buf = malloc(2 * 1024 * 1024);
	cr_assert(buf);
	size_t n = fread(buf, 1, 2 * 1024 * 1024 - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *table_get(void *arg, const char *name)
{
	const struct tcase *t = arg;

	for (size_t i = 0; i < t->n_vars; i++)
		if (strcmp(t->names[i], name) == 0)
			return t->values[i];
	return NULL;
}

static void add_secret(struct tcase *t, const char *v)
{
	if (*v && t->n_secrets < MAX_SECRETS)
		t->secrets[t->n_secrets++] = v;
}

static bool is_secret_name(const char *n)
{
	static const char *const names[] = {
		"AWS_ACCESS_KEY_ID",  "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
		"AWS_SECURITY_TOKEN", "aws_access_key_id",     "aws_secret_access_key",
		"aws_session_token",  "aws_security_token",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(n, names[i]) == 0)
			return true;
	return false;
}

/* Values of key lines in an INI text that hold secrets. */
static void file_secrets(struct tcase *t, const char *text, char **copy)
{
	char *save = NULL;

	if (!text)
		return;
	*copy = strdup(text);
	for (char *line = strtok_r(*copy, "\r\n", &save); line;
	     line = strtok_r(NULL, "\r\n", &save)) {
		char *k = line + strspn(line, " \t");
		size_t kl = strcspn(k, " \t=:");
		char *v = k + kl;
		v += strspn(v, " \t");
		if (*v != '=' && *v != ':')
			continue;
		v++;
		v += strspn(v, " \t");
		k[kl] = '\0';
		if (is_secret_name(k)) {
			size_t vl = strlen(v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				v[--vl] = '\0';
			add_secret(t, v);
		}
	}
}

static void load_case(struct tcase *t, const char *root, const char *name)
{
	char dir[2048];

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	t->env_text = slurp(dir, "env");
	t->config = slurp(dir, "config");
	t->credentials = slurp(dir, "credentials");
	t->expect = slurp(dir, "expect");
	cr_assert(t->expect, "case %s has no expect file", name);
	for (char *line = t->env_text ? strtok(t->env_text, "\n") : NULL; line;
	     line = strtok(NULL, "\n")) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *eq = strchr(line, '=');
		cr_assert(eq, "case %s: env line without '='", name);
		*eq = '\0';
		cr_assert(t->n_vars < MAX_VARS);
		t->names[t->n_vars] = line;
		t->values[t->n_vars++] = eq + 1;
		if (is_secret_name(line))
			add_secret(t, eq + 1);
	}
	file_secrets(t, t->config, &t->copies[0]);
	file_secrets(t, t->credentials, &t->copies[1]);
	add_secret(t, "s3cr3t"); /* the marker every secret in the data carries */
}

static void free_case(struct tcase *t)
{
	free(t->env_text);
	free(t->config);
	free(t->credentials);
	free(t->expect);
	free(t->copies[0]);
	free(t->copies[1]);
}

static void assert_no_secret(const struct tcase *t, const char *what, const char *text)
{
	for (size_t i = 0; i < t->n_secrets; i++)
		cr_expect(!strstr(text, t->secrets[i]), "case %s: %s \"%s\" shows a secret",
			  t->name, what, text);
}

/* ---- what a result says, as text */

static const char *creds_field(const struct aws_creds_plan *pl, const char *k, char *buf,
			       size_t size)
{
	while (strncmp(k, "source_plan.", 12) == 0) {
		pl = pl->source_plan;
		if (!pl)
			return "(no source_plan)";
		k += 12;
	}
	if (strcmp(k, "kind") == 0)
		return aws_creds_kind_name(pl->kind);
	if (strcmp(k, "source") == 0)
		return pl->source;
	if (strcmp(k, "access_key_id") == 0)
		return pl->access_key_id;
	if (strcmp(k, "secret_access_key") == 0)
		return pl->secret_access_key;
	if (strcmp(k, "session_token") == 0)
		return pl->session_token ? pl->session_token : "-";
	if (strcmp(k, "expires") == 0)
		return snprintf(buf, size, "%" PRId64, pl->expires), buf;
	if (strcmp(k, "role_arn") == 0)
		return pl->role_arn;
	if (strcmp(k, "external_id") == 0)
		return pl->external_id;
	if (strcmp(k, "session_name") == 0)
		return pl->session_name;
	if (strcmp(k, "duration_seconds") == 0)
		return snprintf(buf, size, "%d", pl->duration_seconds), buf;
	if (strcmp(k, "imds_endpoint") == 0)
		return pl->imds_endpoint;
	if (strcmp(k, "imds_timeout_ms") == 0)
		return snprintf(buf, size, "%ld", pl->imds_timeout_ms), buf;
	if (strcmp(k, "imds_attempts") == 0)
		return snprintf(buf, size, "%d", pl->imds_attempts), buf;
	if (strcmp(k, "imds_v1_disabled") == 0)
		return pl->imds_v1_disabled ? "true" : "false";
	return NULL;
}

static const char *actual(const struct aws_config *c, const char *key, char *buf, size_t size)
{
	static const char *const retry[] = { "standard", "legacy", "adaptive" };

	if (strcmp(key, "files.config") == 0)
		return c->config_file;
	if (strcmp(key, "files.credentials") == 0)
		return c->credentials_file;
	if (strcmp(key, "profile") == 0)
		return c->profile;
	if (strcmp(key, "profile_set") == 0)
		return c->profile_set ? "true" : "false";
	if (strcmp(key, "region") == 0)
		return c->region;
	if (strcmp(key, "max_attempts") == 0)
		return snprintf(buf, size, "%d", c->max_attempts), buf;
	if (strcmp(key, "retry_mode") == 0)
		return retry[c->retry_mode];
	if (strncmp(key, "creds.", 6) == 0)
		return creds_field(&c->creds, key + 6, buf, size);
	for (int s = 0; s < AWS_SVC_COUNT; s++) {
		const char *svc = aws_service_name(s), *dot = strchr(key, '.');
		if (!dot || strcmp(dot + 1, svc) != 0)
			continue;
		const struct aws_endpoint *e = &c->endpoints[s];
		size_t n = (size_t)(dot - key);
		if (n == 3 && strncmp(key, "url", 3) == 0)
			return e->url;
		if (n == 4 && strncmp(key, "host", 4) == 0)
			return e->host;
		if (n == 7 && strncmp(key, "signing", 7) == 0)
			return e->signing_region;
		if (n == 6 && strncmp(key, "custom", 6) == 0)
			return e->custom ? "true" : "false";
	}
	return NULL;
}

static void assert_sources_clean(const struct tcase *t, const struct aws_creds_plan *pl)
{
	for (; pl; pl = pl->source_plan)
		assert_no_secret(t, "source label", pl->source);
}

/* ---- one case */

static void run_case(const char *root, const char *name)
{
	struct tcase t;
	struct aws_env env = { .get = table_get, .arg = &t };
	struct aws_config c, before;
	struct cbq_error err = { 0 };
	bool want_error = false;

	load_case(&t, root, name);
	want_error = strstr(t.expect, "error.") != NULL;

	enum cbq_err rc = aws_config_files(&env, &c, &err);
	if (rc == CBQ_OK) {
		before = c;
		rc = aws_config_resolve(&env, t.config, t.credentials, &c, &err);
		if (rc != CBQ_OK)
			cr_expect(memcmp(&before, &c, sizeof(c)) == 0,
				  "case %s: a failed resolve changed its output", name);
	}
	if (!want_error)
		cr_expect_eq(rc, CBQ_OK, "case %s failed: [%s] %s", name, err.field, err.msg);
	else
		cr_expect_neq(rc, CBQ_OK, "case %s should fail", name);
	if (rc) {
		assert_no_secret(&t, "error message", err.msg);
		assert_no_secret(&t, "error field", err.field);
	} else {
		assert_sources_clean(&t, &c.creds);
	}

	char *save = NULL;
	for (char *line = strtok_r(t.expect, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *key = line, *val = line + strcspn(line, " \t");
		if (*val) {
			*val++ = '\0';
			val += strspn(val, " \t");
		}
		char buf[64];
		if (strcmp(key, "error.code") == 0) {
			cr_expect_str_eq(cbq_err_name(rc), val, "case %s: code %s, want %s (%s)",
					 name, cbq_err_name(rc), val, err.msg);
		} else if (strcmp(key, "error.field") == 0) {
			cr_expect_str_eq(err.field, val, "case %s: field %s, want %s", name,
					 err.field, val);
		} else if (strcmp(key, "error.msg") == 0) {
			cr_expect(strstr(err.msg, val), "case %s: message \"%s\" lacks \"%s\"",
				  name, err.msg, val);
		} else if (rc == CBQ_OK) {
			const char *got = actual(&c, key, buf, sizeof(buf));
			cr_expect(got, "case %s: unknown expect key %s", name, key);
			if (got)
				cr_expect_str_eq(got, val, "case %s: %s is \"%s\", want \"%s\"",
						 name, key, got, val);
		}
	}
	if (rc == CBQ_OK)
		aws_config_free(&c);
	free_case(&t);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

Test(aws_config, cases_from_data)
{
	char root[1024];
	const char *dir = getenv("CBQ_TESTDATA");
	struct dirent **list;
	int n, cases = 0;

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(root, sizeof(root), "%s/aws_config", dir);
	n = scandir(root, &list, NULL, by_name);
	cr_assert(n > 0, "cannot list %s", root);
	for (int i = 0; i < n; i++) {
		char path[2048];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", root, list[i]->d_name);
		if (list[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			run_case(root, list[i]->d_name);
			cases++;
		}
		free(list[i]);
	}
	free(list);
	cr_expect(cases >= 60, "only %d cases found in %s", cases, root);
}

/* ---- the INI reader directly: rules and limits */

static enum cbq_err parse(const char *text, struct aws_ini *ini, struct cbq_error *err)
{
	return aws_ini_parse(text, strlen(text), "config file /t/config", "aws.config_file", ini,
			     err);
}

Test(aws_ini, continuation_lines_nested_values_and_default_section)
{
	struct aws_ini ini = { 0 };
	struct cbq_error err = { 0 };
	const char *text = "[DEFAULT]\n"
			   "region = eu-north-1\n"
			   "# a comment\n"
			   "[services local]\n"
			   "EC2 =\n"
			   "  ; an indented comment\n"
			   "  endpoint_url = http://localhost:4566\n"
			   "\n"
			   "  Other=x=y\n"
			   "note = first\n"
			   "   second\n"
			   "\n"
			   "   third\n"
			   "\n"
			   "inline = a # not a comment\n";

	cr_assert_eq(parse(text, &ini, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(ini.n_sections, 1);
	const struct aws_ini_section *s = aws_ini_section(&ini, "services local");
	cr_assert(s);
	const struct aws_ini_kv *ec2 = aws_ini_find(&ini, s, "ec2");
	cr_assert(ec2);
	cr_expect_eq(ec2->line, 5);
	cr_expect_eq(ec2->n_sub, 2);
	cr_expect_str_eq(aws_ini_sub(ec2, "endpoint_url")->value, "http://localhost:4566");
	cr_expect_eq(aws_ini_sub(ec2, "endpoint_url")->line, 7);
	cr_expect_str_eq(aws_ini_sub(ec2, "Other")->value, "x=y");
	cr_expect_null(aws_ini_sub(ec2, "other"), "nested names keep their case");
	cr_expect_str_eq(aws_ini_find(&ini, s, "note")->value, "first\nsecond\n\nthird");
	cr_expect_str_eq(aws_ini_find(&ini, s, "inline")->value, "a # not a comment");
	cr_expect_str_eq(aws_ini_find(&ini, s, "region")->value, "eu-north-1", "[DEFAULT] applies");
	cr_expect_null(aws_ini_section(&ini, "DEFAULT"));
	aws_ini_free(&ini);
}

Test(aws_ini, crlf_colons_bom_and_header_forms)
{
	struct aws_ini ini = { 0 };
	struct cbq_error err = { 0 };
	const char *text = "\xef\xbb\xbf[profile a] trailing\r\n"
			   "Region: us-west-1\r\n"
			   "empty =\r\n"
			   "[ spaced ]\r"
			   "k=v\r";

	cr_assert_eq(parse(text, &ini, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(ini.n_sections, 2);
	cr_expect_str_eq(ini.sections[0].name, "profile a");
	cr_expect_str_eq(aws_ini_find(&ini, &ini.sections[0], "region")->value, "us-west-1");
	cr_expect_str_eq(aws_ini_find(&ini, &ini.sections[0], "empty")->value, "");
	cr_expect_str_eq(ini.sections[1].name, " spaced ", "header is not stripped");
	cr_expect_eq(ini.sections[1].line, 4);
	aws_ini_free(&ini);
}

struct bad {
	const char *text;
	enum cbq_err code;
	const char *msg;
};

Test(aws_ini, malformed_input_names_file_and_line)
{
	static const struct bad cases[] = {
		{ "region = x\n", CBQ_ERR_INVALID, "line 1: a key before the first [section]" },
		{ "[a]\nk = v\n\njust words\n", CBQ_ERR_INVALID,
		  "line 4: expected \"key = value\"" },
		{ "[a]\n= v\n", CBQ_ERR_INVALID, "line 2: a key is missing" },
		{ "[a]\n[b]\n[a]\n", CBQ_ERR_INVALID,
		  "line 3: section [a] already began on line 1" },
		{ "[a]\nk = 1\nK = 2\n", CBQ_ERR_INVALID, "line 3: a key of line 2 is repeated" },
		{ "[s]\nec2 =\n  endpoint_url\n", CBQ_ERR_INVALID, "line 3: a nested value needs" },
		{ "[a]\n[]\n", CBQ_ERR_INVALID, "line 2: expected" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_ini ini = { 0 };
		struct cbq_error err = { 0 };
		cr_expect_eq(parse(cases[i].text, &ini, &err), cases[i].code, "case %zu", i);
		cr_expect(strstr(err.msg, "config file /t/config"), "case %zu: %s", i, err.msg);
		cr_expect(strstr(err.msg, cases[i].msg), "case %zu: \"%s\" lacks \"%s\"", i,
			  err.msg, cases[i].msg);
		cr_expect_str_eq(err.field, "aws.config_file");
		cr_expect_null(ini.sections, "output set on failure");
	}
}

Test(aws_ini, nul_byte_is_refused_with_its_line)
{
	struct aws_ini ini = { 0 };
	struct cbq_error err = { 0 };
	const char text[] = "[a]\nk = v\x00w\n";

	cr_expect_eq(aws_ini_parse(text, sizeof(text) - 1, "f", "x", &ini, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, "f line 2: NUL byte"), "%s", err.msg);
}

/* Builds "[a]\n" + body repeated n times (or until len bytes). */
static char *repeat(const char *head, const char *body, size_t n)
{
	size_t hl = strlen(head), bl = strlen(body);
	char *s = malloc(hl + bl * n + 1);

	memcpy(s, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + hl + i * bl, body, bl);
	s[hl + bl * n] = '\0';
	return s;
}

static void expect_too_large(char *text, const char *msg)
{
	struct aws_ini ini = { 0 };
	struct cbq_error err = { 0 };

	cr_expect_eq(parse(text, &ini, &err), CBQ_ERR_TOO_LARGE, "want too_large for %s: %s", msg,
		     err.msg);
	cr_expect(strstr(err.msg, msg), "\"%s\" lacks \"%s\"", err.msg, msg);
	free(text);
}

Test(aws_ini, limits)
{
	char key[200], line[9000];

	/* 1 MiB + 1 bytes of comment lines */
	char *big = repeat("", "#234567\n", 128 * 1024);
	big = realloc(big, 1024 * 1024 + 2);
	strcpy(big + 1024 * 1024, "#");
	expect_too_large(big, "over the 1048576 limit");
	/* exactly 4096 lines is fine, 4097 is not */
	char *ok = repeat("[a]\n", "#\n", 4095);
	struct aws_ini ini = { 0 };
	struct cbq_error err = { 0 };
	cr_expect_eq(parse(ok, &ini, &err), CBQ_OK, "%s", err.msg);
	aws_ini_free(&ini);
	free(ok);
	expect_too_large(repeat("[a]\n", "#\n", 4096), "line 4097: more than 4096 lines");
	/* key of 129 bytes */
	memset(key, 'k', 129);
	key[129] = '\0';
	snprintf(line, sizeof(line), "[a]\n%s = v\n", key);
	expect_too_large(strdup(line), "line 2: key longer than 128 bytes");
	key[128] = '\0';
	snprintf(line, sizeof(line), "[a]\n%s = v\n", key);
	cr_expect_eq(parse(line, &ini, &err), CBQ_OK, "128-byte key: %s", err.msg);
	aws_ini_free(&ini);
	/* value of 8193 bytes, in one line and over continuation lines */
	char *v = repeat("[a]\nk = ", "v", 8193);
	expect_too_large(v, "line 2: value longer than 8192 bytes");
	expect_too_large(repeat("[a]\nk = v\n", "  vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\n", 250),
			 "value longer than 8192 bytes");
	/* section name of 257 bytes */
	char *sec = repeat("[", "s", 257);
	sec = realloc(sec, strlen(sec) + 3);
	strcat(sec, "]\n");
	expect_too_large(sec, "line 1: section name longer than 256 bytes");
}

Test(aws_ini, a_bad_line_holding_a_secret_is_not_echoed)
{
	struct aws_ini ini = { 0 };
	struct cbq_error err = { 0 };
	const char *text = "[default]\naws_access_key_id = AKIAEXAMPLE\n"
			   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYs3cr3tKEY\n";

	cr_expect_eq(parse(text, &ini, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, "line 3"), "%s", err.msg);
	cr_expect(!strstr(err.msg, "wJalr"), "%s", err.msg);
	cr_expect(!strstr(err.msg, "AKIA"), "%s", err.msg);
}

/* ---- resolution details that are awkward as data */

static const char *one_var(void *arg, const char *name)
{
	const char *const *kv = arg;

	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

Test(aws_config, oversized_config_text_is_refused)
{
	const char *vars[] = { "AWS_REGION", "us-east-1", "AWS_CONFIG_FILE", "/etc/cbq/aws", NULL };
	struct aws_env env = { .get = one_var, .arg = vars };
	struct aws_config c;
	struct cbq_error err = { 0 };
	char *text = repeat("[default]\n", "#234567\n", 128 * 1024 + 1);

	cr_assert_eq(aws_config_files(&env, &c, &err), CBQ_OK);
	cr_expect_eq(aws_config_resolve(&env, text, NULL, &c, &err), CBQ_ERR_TOO_LARGE);
	cr_expect(strstr(err.msg, "config file /etc/cbq/aws"), "%s", err.msg);
	cr_expect_str_eq(err.field, "aws.config_file");
	free(text);
}

Test(aws_config, long_path_is_refused)
{
	char path[1100];
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	const char *vars[] = { "AWS_SHARED_CREDENTIALS_FILE", path, NULL };
	struct aws_env env = { .get = one_var, .arg = vars };
	struct aws_config c;
	struct cbq_error err = { 0 };

	cr_expect_eq(aws_config_files(&env, &c, &err), CBQ_ERR_TOO_LARGE);
	cr_expect_str_eq(err.field, "aws.credentials_file");
}

Test(aws_config, plan_copy_is_deep_and_free_wipes)
{
	const char *vars[] = { "AWS_REGION", "us-east-1", "AWS_CONFIG_FILE", "/c", NULL };
	struct aws_env env = { .get = one_var, .arg = vars };
	struct aws_config c;
	struct cbq_error err = { 0 };
	const char *text = "[default]\nrole_arn = arn:aws:iam::111122223333:role/cbq\n"
			   "source_profile = base\n"
			   "[profile base]\naws_access_key_id = AKIAEXAMPLE\n"
			   "aws_secret_access_key = s3cr3t\naws_session_token = tok\n";

	cr_assert_eq(aws_config_files(&env, &c, &err), CBQ_OK);
	cr_assert_eq(aws_config_resolve(&env, text, NULL, &c, &err), CBQ_OK, "%s", err.msg);
	struct aws_creds_plan copy;
	aws_creds_plan_copy(&copy, &c.creds);
	aws_config_free(&c);
	cr_expect_eq(c.creds.source_plan, NULL);
	cr_expect_eq(c.region[0], '\0');
	cr_assert(copy.source_plan);
	cr_expect_str_eq(copy.source_plan->secret_access_key, "s3cr3t");
	cr_expect_str_eq(copy.source_plan->session_token, "tok");
	aws_creds_plan_free(&copy);
	cr_expect_eq(copy.source_plan, NULL);
	cr_expect_eq(copy.kind, AWS_CREDS_NONE);
}

Test(aws_config, resolving_twice_replaces_the_plan)
{
	const char *vars[] = { "AWS_REGION",
			       "us-east-1",
			       "AWS_ACCESS_KEY_ID",
			       "AKIAEXAMPLE",
			       "AWS_SECRET_ACCESS_KEY",
			       "s3cr3t",
			       "AWS_SESSION_TOKEN",
			       "tok",
			       NULL };
	struct aws_env env = { .get = one_var, .arg = vars };
	struct aws_config c;
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_config_files(&env, &c, &err), CBQ_OK);
	cr_assert_eq(aws_config_resolve(&env, NULL, NULL, &c, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(aws_config_resolve(&env, NULL, NULL, &c, &err), CBQ_OK, "%s", err.msg);
	cr_expect_str_eq(c.creds.session_token, "tok");
	aws_config_free(&c); /* ASan: the first token was freed, not leaked */
}

Test(aws_config, names)
{
	cr_expect_str_eq(aws_service_name(AWS_SVC_EC2), "ec2");
	cr_expect_str_eq(aws_service_name(AWS_SVC_STS), "sts");
	cr_expect_str_eq(aws_service_name(AWS_SVC_RAM), "ram");
	cr_expect_str_eq(aws_service_name(AWS_SVC_ORGANIZATIONS), "organizations");
	cr_expect_str_eq(aws_creds_kind_name(AWS_CREDS_ASSUME_ROLE), "assume_role");
	cr_expect_null(aws_env_get(NULL, "HOME"));
}
