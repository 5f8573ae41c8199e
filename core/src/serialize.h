/*
 * serialize.h - model-driven validation and JSON serialization of inputs,
 * and the light touch-up of outputs.
 */
#ifndef ACMPCA_SERIALIZE_H
#define ACMPCA_SERIALIZE_H

#include "internal.h"

/*
 * Validate `input` (NULL means {}) against op->input and write the request
 * body (*body_out, caller-owned, "{}" for an empty input). Blob members are
 * given as PEM/text strings and base64-encoded here; values tagged by a
 * binding (acmpca/model.h) are judged by the tag rules. Any mismatch returns
 * ACMPCA_EPARAM with a message naming the path, e.g.
 * "Validity.Value: expected an integer, got string". No I/O.
 */
int acmpca__serialize_input(const acmpca_operation_info *op, const cJSON *input, char **body_out);

/*
 * Bring a parsed success body into the documented output shape in place:
 * blob members are base64-decoded to text and tagged ACMPCA_TAG_BLOB,
 * timestamps tagged ACMPCA_TAG_TIMESTAMP. Unknown members are kept.
 */
int acmpca__deserialize_output(const acmpca_operation_info *op, cJSON *output);

/*
 * The common success body, read without cJSON's parser: an object of
 * `shape`'s members (a structure), each a string without \u escapes or raw
 * control characters, nothing after it. The tree is what cJSON_Parse makes
 * of it, except that each key is the model's member name, flagged
 * cJSON_StringIsConst (cJSON_Delete and cJSON's replace and add functions
 * never free it). 1 and *out; 0 when the body is anything else (the caller
 * parses it with cJSON, which decides); ACMPCA_ENOMEM.
 */
int acmpca__read_flat_output(const acmpca_shape *shape, const char *body, size_t len, cJSON **out);

#endif
