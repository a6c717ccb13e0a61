/*
 * proto3 JSON encoding over protobuf-c descriptors; see pbjson.h. Written
 * once for every message, so it knows nothing about cbq's. It walks the
 * descriptor's fields in number order and reads each member at its offset,
 * the way protobuf-c's own packer does.
 */
#include "pbjson.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *encode_message(const ProtobufCMessage *msg, int depth);

/* protoc's ToJsonName: drop each '_' and upper-case the letter after it. */
static void json_name(const char *name, char *out, size_t size)
{
	size_t n = 0;
	bool upper = false;

	for (; *name && n + 1 < size; name++) {
		if (*name == '_') {
			upper = true;
			continue;
		}
		out[n++] = (upper && *name >= 'a' && *name <= 'z') ? (char)(*name - 'a' + 'A') : *name;
		upper = false;
	}
	out[n] = '\0';
}

static json_t *encode_base64(const uint8_t *data, size_t len)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t out_len = (len + 2) / 3 * 4;
	char *out = malloc(out_len + 1);
	size_t o = 0;
	json_t *j;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)data[i + 1] << 8;
		if (i + 2 < len)
			v |= data[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? abc[v & 63] : '=';
	}
	out[o] = '\0';
	j = json_stringn_nocheck(out, o);
	free(out);
	return j;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when it is
 * not one: overlong forms, surrogates and values past U+10FFFF are not. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* proto3 strings are UTF-8, but a peer may send anything: show what can be
 * shown and mark the rest with U+FFFD, as other proto3 runtimes do. */
static json_t *encode_string(const char *s)
{
	size_t len = strlen(s);
	json_t *j = json_stringn(s, len);
	char *fixed;
	size_t o = 0;

	if (j)
		return j;
	fixed = malloc(len * 3 + 1); /* each bad byte becomes 3 bytes */
	if (!fixed)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq((const unsigned char *)s + i, len - i);
		if (n == 0) {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(fixed + o, s + i, n);
		o += n;
		i += n;
	}
	j = json_stringn_nocheck(fixed, o);
	free(fixed);
	return j;
}

static json_t *encode_double(double d)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	return json_real(d);
}

static json_t *encode_enum(const ProtobufCEnumDescriptor *desc, int value)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(desc, value);

	return v ? json_string(v->name) : json_integer(value);
}

static json_t *encode_u64(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return json_string(buf);
}

static json_t *encode_i64(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return json_string(buf);
}

/* One value of field f stored at p (an element, for repeated fields). */
static json_t *encode_value(const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_integer(*(const int32_t *)p);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_integer(*(const uint32_t *)p);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return encode_i64(*(const int64_t *)p);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return encode_u64(*(const uint64_t *)p);
	case PROTOBUF_C_TYPE_FLOAT:
		return encode_double(*(const float *)p);
	case PROTOBUF_C_TYPE_DOUBLE:
		return encode_double(*(const double *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return json_boolean(*(const protobuf_c_boolean *)p);
	case PROTOBUF_C_TYPE_ENUM:
		return encode_enum(f->descriptor, *(const int *)p);
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return encode_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = p;
		return encode_base64(b->data, b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(const ProtobufCMessage *const *)p;
		return m ? encode_message(m, depth + 1) : json_object();
	}
	}
	return NULL;
}

static size_t element_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_ENUM:
		return sizeof(int);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* proto3 implicit presence: a field is sent when it differs from zero. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *p)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)p;
		return !s || !*s;
	}
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)p)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(const ProtobufCMessage *const *)p == NULL;
	default: {
		/* Numbers, bools and enums: all-zero bits, so -0.0 is sent. */
		static const uint8_t zero[8];
		return memcmp(p, zero, element_size(f->type)) == 0;
	}
	}
}

/* Whether a singular field is there to print, by protobuf-c's rules. */
static bool is_present(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
		       const void *p)
{
	const char *base = (const char *)msg;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
		uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
		if (which != f->id)
			return false;
		/* a set oneof prints even at its default, but not a NULL message */
		return f->type != PROTOBUF_C_TYPE_MESSAGE ||
		       *(const ProtobufCMessage *const *)p != NULL;
	}
	switch (f->label) {
	case PROTOBUF_C_LABEL_REQUIRED:
		return true;
	case PROTOBUF_C_LABEL_OPTIONAL:
		if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE) {
			const void *ptr = *(const void *const *)p;
			return ptr != NULL && ptr != f->default_value;
		}
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	case PROTOBUF_C_LABEL_NONE:
		return !is_default(f, p);
	case PROTOBUF_C_LABEL_REPEATED:
		break;
	}
	return false;
}

static json_t *encode_repeated(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *f,
			       int depth)
{
	const char *base = (const char *)msg;
	size_t n = *(const size_t *)(base + f->quantifier_offset);
	const char *elems = *(const char *const *)(base + f->offset);
	size_t size = element_size(f->type);
	json_t *arr = json_array();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(arr, encode_value(f, elems + i * size, depth)) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *encode_message(const ProtobufCMessage *msg, int depth)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;
	json_t *obj;

	if (depth > PBJSON_DEPTH_MAX)
		return NULL;
	obj = json_object();
	if (!obj)
		return NULL;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const void *p = (const char *)msg + f->offset;
		char name[256];
		json_t *v;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (*(const size_t *)((const char *)msg + f->quantifier_offset) == 0)
				continue;
			v = encode_repeated(msg, f, depth);
		} else {
			if (!is_present(msg, f, p))
				continue;
			v = encode_value(f, p, depth);
		}
		json_name(f->name, name, sizeof(name));
		/* json_object_set_new consumes v, also when v is NULL */
		if (!v || json_object_set_new(obj, name, v) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

json_t *pbjson_encode(const ProtobufCMessage *msg)
{
	return msg ? encode_message(msg, 0) : NULL;
}

char *pbjson_dumps(const ProtobufCMessage *msg)
{
	json_t *j = pbjson_encode(msg);
	char *s;

	if (!j)
		return NULL;
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}
