/*
 * proto3 JSON for any protobuf-c message, driven by its descriptor: what
 * `cbq -o json` prints. Encode only; cbq never reads JSON. Not covered:
 * well-known types (Timestamp, Any, ...) and map fields get no special
 * form (cbq.proto uses neither); doubles print with 17 significant digits.
 */
#ifndef CBQ_CLIENT_PBJSON_H
#define CBQ_CLIENT_PBJSON_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* How deep messages may nest before encoding gives up. */
enum { PBJSON_DEPTH_MAX = 64 };

/*
 * Encodes msg following the proto3 JSON mapping: lowerCamelCase names,
 * fields at their default value omitted (unless in a set oneof or marked
 * optional and present), 64-bit integers as decimal strings, enums by
 * name (unknown values as numbers), bytes as padded base64, invalid UTF-8
 * in strings replaced by U+FFFD. Returns a new object the caller owns
 * (json_decref), or NULL when memory runs out or nesting exceeds
 * PBJSON_DEPTH_MAX.
 */
json_t *pbjson_encode(const ProtobufCMessage *msg);

/* pbjson_encode, indented by two spaces, without a trailing newline.
 * malloc'd; the caller frees. NULL on the same failures. */
char *pbjson_dumps(const ProtobufCMessage *msg);

#endif
