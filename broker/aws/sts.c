/*
 * STS request bodies and reply parsers; see sts.h. Not the credential cache
 * or the provider chain (those do I/O); this only speaks the wire format.
 * The query protocol lists as Name.member.N (Tags.member.1.Key).
 */
#include "aws/sts.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <openssl/crypto.h>

#include "aws/xml.h"

/* s is min..max bytes of [A-Za-z0-9_] and the extra characters. */
static bool word(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || strchr(extra, c)))
			return false;
	}
	return n >= min && n <= max;
}

static void add_checked(struct aws_form *f, const char *name, const char *v, size_t min, size_t max,
			const char *extra)
{
	if (!v)
		return;
	if (extra ? !word(v, min, max, extra) : (strlen(v) < min || strlen(v) > max)) {
		aws_form_invalid(f, name, "%s must be %zu to %zu characters%s%s", name, min, max,
		    extra ? " of letters, digits and _" : "", extra ? extra : "");
		return;
	}
	aws_form_add(f, name, v);
}

enum cbq_err aws_sts_assume_role_form(const struct aws_sts_assume_role_req *r, struct aws_form *out,
				      struct cbq_error *err)
{
	struct aws_form f;
	enum cbq_err rc;

	aws_form_init(&f, "AssumeRole", AWS_STS_VERSION, 0);
	if (!r->role_arn || !r->session_name)
		aws_form_invalid(&f, r->role_arn ? "RoleSessionName" : "RoleArn",
		    "AssumeRole needs RoleArn and RoleSessionName");
	add_checked(&f, "RoleArn", r->role_arn, 20, AWS_STS_MAX_ARN, NULL);
	add_checked(&f, "RoleSessionName", r->session_name, 2, 64, "+=,.@-");
	add_checked(&f, "ExternalId", r->external_id, 2, 1224, "+=,.@:/-");
	if (r->duration_seconds && (r->duration_seconds < 900 || r->duration_seconds > 43200))
		aws_form_invalid(&f, "DurationSeconds", "DurationSeconds must be 900 to 43200");
	if (r->duration_seconds)
		aws_form_add_i64(&f, "DurationSeconds", r->duration_seconds);
	add_checked(&f, "SourceIdentity", r->source_identity, 2, 64, "+=,.@-");
	if (r->n_tags > AWS_STS_MAX_TAGS || (r->n_tags && !r->tags))
		aws_form_invalid(&f, "Tags", "at most %d session tags", AWS_STS_MAX_TAGS);
	for (size_t i = 0; i < r->n_tags && !f.err.code; i++) {
		const struct aws_tag *t = &r->tags[i];
		if (!t->key || !t->value || !*t->key || strlen(t->key) > 128 ||
		    strlen(t->value) > 256) {
			aws_form_invalid(&f, "Tags", "session tag %zu: key 1 to 128 bytes, value up to 256",
			    i + 1);
			break;
		}
		aws_form_addf(&f, t->key, "Tags.member.%zu.Key", i + 1);
		aws_form_addf(&f, t->value, "Tags.member.%zu.Value", i + 1);
	}
	if (r->n_transitive_tag_keys > AWS_STS_MAX_TRANSITIVE ||
	    (r->n_transitive_tag_keys && !r->transitive_tag_keys))
		aws_form_invalid(&f, "TransitiveTagKeys", "at most %d transitive tag keys",
		    AWS_STS_MAX_TRANSITIVE);
	for (size_t i = 0; i < r->n_transitive_tag_keys && !f.err.code; i++) {
		const char *k = r->transitive_tag_keys[i];
		if (!k || !*k || strlen(k) > 128)
			aws_form_invalid(&f, "TransitiveTagKeys", "transitive tag key %zu: 1 to 128 bytes",
			    i + 1);
		else
			aws_form_addf(&f, k, "TransitiveTagKeys.member.%zu", i + 1);
	}
	if (r->n_policy_arns > AWS_STS_MAX_POLICY_ARNS || (r->n_policy_arns && !r->policy_arns))
		aws_form_invalid(&f, "PolicyArns", "at most %d policy ARNs", AWS_STS_MAX_POLICY_ARNS);
	for (size_t i = 0; i < r->n_policy_arns && !f.err.code; i++) {
		const char *a = r->policy_arns[i];
		if (!a || strlen(a) < 20 || strlen(a) > AWS_STS_MAX_ARN)
			aws_form_invalid(&f, "PolicyArns", "policy ARN %zu: 20 to %d bytes", i + 1,
			    AWS_STS_MAX_ARN);
		else
			aws_form_addf(&f, a, "PolicyArns.member.%zu.arn", i + 1);
	}
	if ((rc = aws_form_finish(&f, err))) {
		aws_form_free(&f);
		return rc;
	}
	*out = f;
	return CBQ_OK;
}

enum cbq_err aws_sts_caller_identity_form(struct aws_form *out, struct cbq_error *err)
{
	struct aws_form f;
	enum cbq_err rc;

	aws_form_init(&f, "GetCallerIdentity", AWS_STS_VERSION, 0);
	if ((rc = aws_form_finish(&f, err))) {
		aws_form_free(&f);
		return rc;
	}
	*out = f;
	return CBQ_OK;
}

/* Opens a reply with root <root> and returns its <result> child. */
static enum cbq_err open_result(const char *body, size_t len, const char *root, const char *result,
				xmlDoc **doc, xmlNode **res, struct cbq_error *err)
{
	enum cbq_err rc = aws_xml_parse(body, len, doc, err);
	xmlNode *top;

	if (rc)
		return rc;
	top = xmlDocGetRootElement(*doc);
	*res = aws_xml_child(top, result);
	if (!aws_xml_is(top, root) || !*res) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "", "AWS reply is <%s>, expected <%s><%s>",
			      (const char *)top->name, root, result);
		xmlFreeDoc(*doc);
		*doc = NULL;
	}
	return rc;
}

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void wipe_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* Overwrites the text under n so freeing the document leaves no secret. */
static void scrub(xmlDoc *doc, xmlNode *n)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content &&
		    !(doc->dict && xmlDictOwns(doc->dict, c->content)))
			OPENSSL_cleanse(c->content, strlen((const char *)c->content));
		else if (c->type == XML_ELEMENT_NODE)
			scrub(doc, c);
	}
}

enum cbq_err aws_sts_parse_assume_role(const char *body, size_t len,
				       struct aws_sts_credentials *out, struct cbq_error *err)
{
	struct aws_sts_credentials v = { 0 };
	struct cbq_arena a = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *res, *cred = NULL, *user, *meta;
	char *key, *secret, *token, *role_id, *arn, *req;
	enum cbq_err rc;

	if ((rc = open_result(body, len, "AssumeRoleResponse", "AssumeRoleResult", &doc, &res,
			      err)))
		goto out;
	cred = aws_xml_child(res, "Credentials");
	user = aws_xml_child(res, "AssumedRoleUser");
	meta = aws_xml_child(xmlDocGetRootElement(doc), "ResponseMetadata");
	if (!cred) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "Credentials",
			      "AssumeRole reply lacks <Credentials>");
		goto out;
	}
	if ((rc = aws_xml_text(cred, "AccessKeyId", true, AWS_STS_MAX_KEY_ID, &a, &key, err)) ||
	    (rc = aws_xml_text(cred, "SecretAccessKey", true, AWS_STS_MAX_SECRET, &a, &secret,
			       err)) ||
	    (rc = aws_xml_text(cred, "SessionToken", true, AWS_STS_MAX_SESSION_TOKEN, &a, &token,
			       err)) ||
	    (rc = aws_xml_time(cred, "Expiration", true, &v.expiration, err)) ||
	    (rc = aws_xml_text(user, "AssumedRoleId", false, 256, &a, &role_id, err)) ||
	    (rc = aws_xml_text(user, "Arn", false, AWS_STS_MAX_ARN, &a, &arn, err)) ||
	    (rc = aws_xml_text(meta, "RequestId", false, 128, &a, &req, err)))
		goto out;
	if (!*key || !*secret || !*token) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "Credentials",
			      "AssumeRole reply has an empty key, secret or token");
		goto out;
	}
	v.access_key_id = dup_or_null(key);
	v.secret_access_key = dup_or_null(secret);
	v.session_token = dup_or_null(token);
	v.assumed_role_id = dup_or_null(role_id);
	v.arn = dup_or_null(arn);
	v.request_id = dup_or_null(req);
	*out = v;
	v = (struct aws_sts_credentials){ 0 };
out:
	/* The arena holds copies of the secret and token: wipe them. */
	for (size_t i = 0; i < a.n; i++)
		OPENSSL_cleanse(a.ptrs[i], strlen(a.ptrs[i]));
	cbq_arena_free(&a);
	aws_sts_credentials_free(&v);
	if (doc)
		scrub(doc, cred);
	xmlFreeDoc(doc);
	return rc;
}

void aws_sts_credentials_free(struct aws_sts_credentials *c)
{
	if (!c)
		return;
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	free(c->assumed_role_id);
	free(c->arn);
	free(c->request_id);
	memset(c, 0, sizeof(*c));
}

enum cbq_err aws_sts_parse_caller_identity(const char *body, size_t len,
					   struct aws_sts_identity *out, struct cbq_error *err)
{
	struct aws_sts_identity v = { 0 };
	xmlDoc *doc = NULL;
	xmlNode *res;
	enum cbq_err rc;

	if ((rc = open_result(body, len, "GetCallerIdentityResponse", "GetCallerIdentityResult",
			      &doc, &res, err)) ||
	    (rc = aws_xml_text(res, "Account", true, 32, &v.arena, &v.account, err)) ||
	    (rc = aws_xml_text(res, "Arn", true, AWS_STS_MAX_ARN, &v.arena, &v.arn, err)) ||
	    (rc = aws_xml_text(res, "UserId", false, 256, &v.arena, &v.user_id, err)) ||
	    (rc = aws_xml_text(aws_xml_child(xmlDocGetRootElement(doc), "ResponseMetadata"),
			       "RequestId", false, 128, &v.arena, &v.request_id, err)))
		goto out;
	if (strlen(v.account) != 12 || strspn(v.account, "0123456789") != 12) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "Account",
			      "<Account> is not a 12-digit account id");
		goto out;
	}
	*out = v;
	v = (struct aws_sts_identity){ 0 };
out:
	aws_sts_identity_free(&v);
	xmlFreeDoc(doc);
	return rc;
}

void aws_sts_identity_free(struct aws_sts_identity *v)
{
	if (!v)
		return;
	cbq_arena_free(&v->arena);
	memset(v, 0, sizeof(*v));
}
