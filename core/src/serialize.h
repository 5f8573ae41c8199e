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

#endif
