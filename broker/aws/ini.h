/*
 * The INI reader for the AWS shared config and credentials files, with
 * Python RawConfigParser's rules as botocore uses them (AWS.md §10.3): no
 * interpolation, whole-line '#'/';' comments only, "key = value" or
 * "key: value", keys lowercased, indented continuation lines, and botocore's
 * one level of nesting ("ec2 =" + indented "endpoint_url = ..."). Pure: it
 * parses a text it is given; it does not know what profiles mean (config.c).
 */
#ifndef CBQ_AWS_INI_H
#define CBQ_AWS_INI_H

#include <stddef.h>

#include "core/err.h"

/* Over a limit is CBQ_ERR_TOO_LARGE naming the file (and the line). */
enum {
	AWS_INI_MAX_FILE = 1024 * 1024, /* bytes in one file */
	AWS_INI_MAX_LINES = 4096,
	AWS_INI_MAX_SECTION = 256, /* bytes between [ and ] */
	AWS_INI_MAX_KEY = 128,	   /* bytes in a key, nested keys too */
	AWS_INI_MAX_VALUE = 8192,  /* bytes in a value, continuation lines joined */
};

struct aws_ini_kv {
	char *key;   /* lowercased, as RawConfigParser's optionxform does */
	char *value; /* stripped; continuation lines joined with '\n'; may be "" */
	int line;    /* 1-based line of the key */
	/* A nested value: the key's own line had no value and indented
	 * "name = value" lines followed (botocore's _parse_nested). Nested
	 * names keep their case; a repeated name: the last one counts. */
	struct aws_ini_kv *sub;
	size_t n_sub;
};

struct aws_ini_section {
	char *name; /* as written between '[' and the last ']', not stripped */
	int line;
	struct aws_ini_kv *kv; /* file order; no key twice (strict mode) */
	size_t n_kv;
};

struct aws_ini {
	struct aws_ini_section *sections; /* file order; never [DEFAULT] */
	size_t n_sections;
	/* [DEFAULT]: RawConfigParser offers its keys in every section. */
	struct aws_ini_section *defaults;
};

/*
 * Parses text[0..len). name is used in messages ("config file
 * /root/.aws/config"), field goes to err->field. Errors: a line that is no
 * header, option, comment or continuation; an option before any section; a
 * section or key twice (RawConfigParser's strict mode); a nested line
 * without '='; a NUL byte; the limits above. Messages give name and line
 * but never the line's text (it may hold a secret). On success *out owns
 * copies (free with aws_ini_free()); on failure *out is untouched. A UTF-8
 * byte order mark at the start is skipped.
 */
enum cbq_err aws_ini_parse(const char *text, size_t len, const char *name, const char *field,
			   struct aws_ini *out, struct cbq_error *err) CBQ_MUST_CHECK;

/* The section called exactly name, or NULL. Not [DEFAULT]. */
const struct aws_ini_section *aws_ini_section(const struct aws_ini *ini, const char *name);

/* key (lowercase) in section s, else in [DEFAULT] when s is not NULL; NULL
 * when neither has it. */
const struct aws_ini_kv *aws_ini_find(const struct aws_ini *ini, const struct aws_ini_section *s,
				      const char *key);

/* The nested entry name of kv (last one wins), or NULL. */
const struct aws_ini_kv *aws_ini_sub(const struct aws_ini_kv *kv, const char *name);

/* Wipes every string (values may be secrets), frees and zeroes *ini.
 * NULL and a zeroed struct are fine. */
void aws_ini_free(struct aws_ini *ini);

#endif
