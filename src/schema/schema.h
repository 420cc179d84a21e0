/* schema: JSON Schema for structured output (response_format) and, later,
 * function parameters — what we accept, the grammar that enforces it, and a
 * validator for what the model wrote.
 *
 * llama.cpp's json_schema_to_grammar (common/json-schema-to-grammar.cpp)
 * turns a schema into a GBNF grammar, but it silently skips every keyword
 * it does not understand (and, for some shapes, keywords it does understand
 * elsewhere: `$ref` or `anyOf` with sibling constraints, `minLength` next to
 * a `pattern`, bounds on a `number`...). A skipped keyword means output that
 * does not validate, so ia_schema_prepare walks the schema exactly as the
 * converter will and refuses (IA_EINVALID, naming the path and the keyword)
 * whatever it would ignore. The accepted set (docs/ARCHITECTURE.md lists it):
 *   any schema: type (a name or a list of names), enum, const, anyOf, oneOf
 *     (enforced as anyOf: alternatives should not overlap), allOf of object
 *     schemas, $ref to "#/..." (e.g. "#/$defs/X"), annotations (title,
 *     description, default, examples, $schema, $comment, $defs, definitions,
 *     deprecated, readOnly, writeOnly);
 *   object: properties, required, additionalProperties (bool or schema);
 *   array: items (schema or tuple list), prefixItems, minItems, maxItems;
 *   string: minLength, maxLength, format (date, time, date-time, uuid,
 *     email), pattern (anchored ^...$; literals, ., [...] classes, groups,
 *     (?:...), |, *, +, ?, {m,n}, and the escapes \d \w \s \t \n \r \xHH
 *     \uHHHH and of regex metacharacters);
 *   integer: minimum, maximum, exclusiveMinimum, exclusiveMaximum (integers).
 * Prepared schemas are normalized (format email and \d \w \s become classes
 * the converter knows), and that normalized schema is what the grammar and
 * the validator read. */
#ifndef IA_SCHEMA_SCHEMA_H
#define IA_SCHEMA_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

/* Checks schema (path names it in messages, e.g. "response_format") and
 * returns a normalized deep copy (a new reference), or NULL with err
 * (IA_EINVALID). */
json_t *ia_schema_prepare(json_t *schema, const char *path, ia_err *err);

/* The GBNF grammar (root rule "root") for a prepared schema, malloc'd, or
 * NULL with err (IA_EINVALID: the converter refused it). Implemented in
 * the engine's C++ shim (src/engine/chat.cpp) over libllama-common. */
char *ia_schema_grammar(json_t *prepared, const char *path, ia_err *err);

/* A schema given as JSON text (an MCP tool's inputSchema) as it is offered
 * to the model: prepared, and its grammar checked by the converter; the
 * prepared schema as compact JSON (malloc'd), or NULL with err (not JSON:
 * IA_EINVALID naming path; refused: as prepare / grammar say). */
char *ia_schema_offer(const char *schema_json, const char *path, ia_err *err);

/* Validates instance against a prepared schema. Returns true, or false with
 * a message naming the failing location in why (NUL-terminated, cut to n). */
bool ia_schema_validate(json_t *prepared, json_t *instance, char *why, size_t n);

#endif
