/* Form decoding with limits; see params.h. */
#include "params.h"
#include "core/duration.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decodes s[0..len) into a new string; NULL on a bad escape, a NUL byte or
 * out of memory. */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			if (i + 2 >= len)
				goto bad;
			int hi = cbq_hexval(s[i + 1]), lo = cbq_hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				goto bad;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			goto bad;
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

enum cbq_err sim_params_parse(const char *text, size_t len, struct sim_params *out,
			      struct cbq_error *err)
{
	struct sim_params p = { 0 };
	enum cbq_err rc = CBQ_OK;
	size_t i = 0;

	while (i < len) {
		size_t amp = i;
		while (amp < len && text[amp] != '&')
			amp++;
		if (amp == i) {
			i++;
			continue;
		}
		size_t eq = i;
		while (eq < amp && text[eq] != '=')
			eq++;
		if (p.n == SIM_MAX_PARAMS) {
			rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "params", "more than %d parameters",
				      SIM_MAX_PARAMS);
			goto out;
		}
		size_t nlen = eq - i, vlen = eq < amp ? amp - eq - 1 : 0;
		if (nlen > 3 * SIM_MAX_PARAM_NAME || vlen > 3 * SIM_MAX_PARAM_VALUE) {
			rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "params", "parameter too long");
			goto out;
		}
		if (!p.v) {
			p.v = calloc(SIM_MAX_PARAMS, sizeof(*p.v));
			if (!p.v) {
				rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
				goto out;
			}
		}
		char *name = decode(text + i, nlen);
		char *value = decode(eq < amp ? text + eq + 1 : "", vlen);
		if (!name || !value || strlen(name) > SIM_MAX_PARAM_NAME ||
		    strlen(value) > SIM_MAX_PARAM_VALUE || !name[0]) {
			free(name);
			free(value);
			rc = cbq_fail(err, CBQ_ERR_INVALID, "params",
				      "malformed form parameter (bad %%-escape, NUL or too long)");
			goto out;
		}
		p.v[p.n].name = name;
		p.v[p.n++].value = value;
		i = amp + 1;
	}
	*out = p;
	p = (struct sim_params){ 0 };
out:
	sim_params_free(&p);
	return rc;
}

void sim_params_free(struct sim_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
	}
	free(p->v);
	*p = (struct sim_params){ 0 };
}

const char *sim_params_get(const struct sim_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return p->v[i].value;
	return NULL;
}

const char *sim_params_getf(const struct sim_params *p, const char *fmt, ...)
{
	char name[SIM_MAX_PARAM_NAME + 1];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(name))
		return NULL;
	return sim_params_get(p, name);
}
