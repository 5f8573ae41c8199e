/*
 * fuzz_validate.c - model-driven validation and serialization of inputs
 * (acmpca__serialize_input) for every operation, with the input parsed as
 * JSON.
 *
 * Input: byte 0 picks the operation; the rest is JSON text. Text that is
 * not JSON is skipped (cJSON's parser is not ours to test). Some values are
 * then tagged as a binding would tag host values (acmpca/model.h: bytes,
 * date/times, unsupported values, ambiguous empty containers), the choice
 * derived from byte 0 and the node's position. A success must print a JSON
 * object; every failure must be EPARAM with a path in front. The same tree
 * as an output (acmpca_output_validate) obeys the same contract.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "acmpca.h"
#include "fuzz.h"
#include "serialize.h"

static void tag_tree(cJSON *v, unsigned seed, unsigned *k)
{
    for (; v; v = v->next) {
        unsigned pick = ((++*k) * 2654435761u + seed) >> 28;
        if (cJSON_IsString(v) && pick < 4)
            v->type |= pick < 2 ? ACMPCA_TAG_BLOB : pick < 3 ? ACMPCA_TAG_INVALID
                                                             : ACMPCA_TAG_TIMESTAMP;
        else if (cJSON_IsNumber(v) && pick < 4)
            v->type |= ACMPCA_TAG_TIMESTAMP;
        else if (cJSON_IsObject(v) && !v->child && pick < 8)
            v->type |= ACMPCA_TAG_EMPTY;
        tag_tree(v->child, seed, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const acmpca_operation_info *op;
    cJSON *input, *back;
    char *body = NULL, *text;
    int rc, out_rc;

    if (size < 1)
        return 0;
    op = acmpca_model_operation(data[0] % acmpca_model_operation_count());
    text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    input = cJSON_ParseWithLength(text, size - 1);
    free(text);
    if (!input)
        return 0;
    {
        unsigned k = 0;
        tag_tree(input->child, data[0], &k);
    }

    rc = acmpca__serialize_input(op, input, &body);
    if (rc == 0) {
        FUZZ_ASSERT(body != NULL);
        back = cJSON_Parse(body);
        FUZZ_ASSERT(cJSON_IsObject(back));
        /* Nothing the model does not know survives validation. */
        FUZZ_ASSERT(cJSON_GetArraySize(back) <= cJSON_GetArraySize(input));
        cJSON_Delete(back);
        free(body);
    } else {
        const acmpca_error *e = acmpca_error_last();
        FUZZ_ASSERT(body == NULL);
        FUZZ_ASSERT(rc == ACMPCA_EPARAM || rc == ACMPCA_ENOMEM);
        FUZZ_ASSERT(e->code == rc && e->message[0] != '\0');
        FUZZ_ASSERT(strstr(e->message, ": ") != NULL);
    }
    out_rc = acmpca_output_validate(op, input);
    if (out_rc != 0) {
        const acmpca_error *e = acmpca_error_last();
        FUZZ_ASSERT(out_rc == ACMPCA_EPARAM || out_rc == ACMPCA_ENOMEM);
        FUZZ_ASSERT(e->code == out_rc && strstr(e->message, ": ") != NULL);
    }
    /* The same input as NULL-or-object through the public path's shape check. */
    if (!cJSON_IsObject(input))
        FUZZ_ASSERT(rc == ACMPCA_EPARAM);
    cJSON_Delete(input);
    return 0;
}
