/*
 * libxml2 helpers, the AWS error-reply parser and the error classifier; see
 * xml.h. Not a general XML layer: only what query-protocol replies need.
 */
#include "aws/xml.h"
#include "core/duration.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

/* No network, no entity substitution (XML_PARSE_NOENT stays off), no DTD
 * loading, nothing printed. */
static const int parse_options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

enum cbq_err aws_xml_parse(const char *body, size_t len, xmlDoc **out, struct cbq_error *err)
{
	xmlDoc *doc;

	if (len > AWS_XML_MAX_REPLY)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "", "AWS reply of %zu bytes is over %d",
				len, AWS_XML_MAX_REPLY);
	if (!body || len == 0)
		return cbq_fail(err, CBQ_ERR_INVALID, "", "AWS reply is empty");
	/* AWS answers in UTF-8; a declared encoding is ignored, so a reply with
	 * bad bytes in another one cannot make libxml2 print to our stderr */
	doc = xmlReadMemory(body, (int)len, NULL, "UTF-8", parse_options | XML_PARSE_IGNORE_ENC);
	if (!doc)
		return cbq_fail(err, CBQ_ERR_INVALID, "",
				"AWS reply (%zu bytes) is not well-formed XML", len);
	if (doc->intSubset || doc->extSubset || !xmlDocGetRootElement(doc)) {
		xmlFreeDoc(doc);
		return cbq_fail(err, CBQ_ERR_INVALID, "", "AWS reply has a DTD or no root element");
	}
	*out = doc;
	return CBQ_OK;
}

bool aws_xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

xmlNode *aws_xml_child(const xmlNode *parent, const char *name)
{
	if (!parent)
		return NULL;
	for (xmlNode *c = parent->children; c; c = c->next)
		if (aws_xml_is(c, name))
			return c;
	return NULL;
}

xmlNode *aws_xml_next(const xmlNode *n)
{
	for (xmlNode *c = n ? n->next : NULL; c; c = c->next)
		if (aws_xml_is(c, (const char *)n->name))
			return c;
	return NULL;
}

xmlNode *aws_xml_find(xmlNode *node, const char *name)
{
	/* Iterative pre-order walk of the subtree rooted at node: replies nest
	 * only as deep as libxml2 allows (256), but no recursion is simpler. */
	xmlNode *n = node;

	while (n) {
		if (aws_xml_is(n, name))
			return n;
		if (n->type == XML_ELEMENT_NODE && n->children) {
			n = n->children;
			continue;
		}
		while (n != node && !n->next)
			n = n->parent;
		n = n == node ? NULL : n->next;
	}
	return NULL;
}

/* Length of the direct text of n, or SIZE_MAX past max. */
static size_t text_len(const xmlNode *n, size_t max)
{
	size_t len = 0;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			continue;
		len += strlen((const char *)c->content);
		if (len > max)
			return SIZE_MAX;
	}
	return len;
}

static void text_copy(const xmlNode *n, char *dst)
{
	size_t o = 0;

	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
			continue;
		size_t l = strlen((const char *)c->content);
		memcpy(dst + o, c->content, l);
		o += l;
	}
	dst[o] = '\0';
}

enum cbq_err aws_xml_text(const xmlNode *parent, const char *name, bool required, size_t max,
			  struct cbq_arena *a, char **out, struct cbq_error *err)
{
	const xmlNode *n = aws_xml_child(parent, name);

	if (!max)
		max = AWS_XML_MAX_TEXT;
	if (!n) {
		*out = NULL;
		if (required)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "AWS reply lacks <%s>", name);
		return CBQ_OK;
	}
	size_t len = text_len(n, max);
	if (len == SIZE_MAX)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, name, "<%s> in AWS reply is over %zu bytes",
				name, max);
	char *s = cbq_arena_alloc(a, len + 1, 1);
	text_copy(n, s);
	*out = s;
	return CBQ_OK;
}

/* Text of child `name` into a fixed buffer; false when missing or too long. */
static bool small_text(const xmlNode *parent, const char *name, char *buf, size_t size,
		       bool *present)
{
	const xmlNode *n = aws_xml_child(parent, name);

	*present = n != NULL;
	if (!n)
		return false;
	size_t len = text_len(n, size - 1);
	if (len == SIZE_MAX)
		return false;
	text_copy(n, buf);
	/* Surrounding whitespace is never meaningful in numbers, booleans, times. */
	size_t s = strspn(buf, " \t\r\n");
	memmove(buf, buf + s, strlen(buf + s) + 1);
	for (size_t e = strlen(buf); e && strchr(" \t\r\n", buf[e - 1]); e--)
		buf[e - 1] = '\0';
	return true;
}

enum cbq_err aws_xml_i64(const xmlNode *parent, const char *name, bool required, int64_t min,
			 int64_t max, int64_t dflt, int64_t *out, struct cbq_error *err)
{
	char buf[32], *end;
	bool present;

	if (!small_text(parent, name, buf, sizeof(buf), &present)) {
		if (present)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "<%s> is not an integer", name);
		if (required)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "AWS reply lacks <%s>", name);
		*out = dflt;
		return CBQ_OK;
	}
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || end == buf || *end || v < min || v > max)
		return cbq_fail(err, CBQ_ERR_INVALID, name,
				"<%s> is not an integer in [%lld, %lld]", name, (long long)min,
				(long long)max);
	*out = v;
	return CBQ_OK;
}

enum cbq_err aws_xml_bool(const xmlNode *parent, const char *name, bool *out, struct cbq_error *err)
{
	char buf[8];
	bool present;

	if (!small_text(parent, name, buf, sizeof(buf), &present)) {
		if (present)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "<%s> is not a boolean", name);
		*out = false;
		return CBQ_OK;
	}
	if (strcmp(buf, "true") == 0)
		*out = true;
	else if (strcmp(buf, "false") == 0)
		*out = false;
	else
		return cbq_fail(err, CBQ_ERR_INVALID, name, "<%s> is not a boolean", name);
	return CBQ_OK;
}

/* n decimal digits at *s into *v; advances *s. */
static bool digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		*v = *v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return true;
}

static bool lit(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

bool aws_parse_time(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;

	if (!digits(&s, 4, &y) || !lit(&s, '-') || !digits(&s, 2, &mo) || !lit(&s, '-') ||
	    !digits(&s, 2, &d) || !(lit(&s, 'T') || lit(&s, 't')) || !digits(&s, 2, &h) ||
	    !lit(&s, ':') || !digits(&s, 2, &mi) || !lit(&s, ':') || !digits(&s, 2, &se))
		return false;
	if (lit(&s, '.')) {
		int n = 0;
		while (*s >= '0' && *s <= '9' && n < 12)
			s++, n++;
		if (n == 0 || (*s >= '0' && *s <= '9'))
			return false;
	}
	if (lit(&s, 'Z') || lit(&s, 'z'))
		sign = 0;
	else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!digits(&s, 2, &oh) || !lit(&s, ':') || !digits(&s, 2, &om) || oh > 23 ||
		    om > 59)
			return false;
	} else
		return false;
	if (*s || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	*out = cbq_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	       sign * (oh * 3600 + om * 60);
	return true;
}

enum cbq_err aws_xml_time(const xmlNode *parent, const char *name, bool required, int64_t *out,
			  struct cbq_error *err)
{
	char buf[64];
	bool present;

	bool ok = small_text(parent, name, buf, sizeof(buf), &present);

	if (!present) {
		if (required)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "AWS reply lacks <%s>", name);
		*out = 0;
		return CBQ_OK;
	}
	if (!ok || !aws_parse_time(buf, out))
		return cbq_fail(err, CBQ_ERR_INVALID, name, "<%s> is not an ISO-8601 time", name);
	return CBQ_OK;
}
