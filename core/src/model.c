/*
 * model.c - the read-only model API of acmpca/model.h over the generated
 * tables of model_data.c.
 */
#include <string.h>

#include "model_data.h"

size_t acmpca_model_operation_count(void)
{
    return ACMPCA_OP_COUNT;
}

const acmpca_operation_info *acmpca_model_operation(size_t index)
{
    return index < ACMPCA_OP_COUNT ? &acmpca__operations[index] : NULL;
}

const acmpca_operation_info *acmpca_model_operation_find(const char *name)
{
    size_t i;

    if (!name)
        return NULL;
    /* 23 entries: a linear scan is cheaper than anything cleverer. */
    for (i = 0; i < ACMPCA_OP_COUNT; i++) {
        const acmpca_operation_info *op = &acmpca__operations[i];
        if ((op->name[0] == name[0] && strcmp(op->name, name) == 0) ||
            (op->snake_name[0] == name[0] && strcmp(op->snake_name, name) == 0))
            return op;
    }
    return NULL;
}

const acmpca_member *acmpca_model_member(const acmpca_shape *shape, const char *name)
{
    size_t i;

    if (!shape || !name || shape->type != ACMPCA_SHAPE_STRUCTURE)
        return NULL;
    for (i = 0; i < shape->member_count; i++) {
        if (strcmp(shape->members[i].name, name) == 0)
            return &shape->members[i];
    }
    return NULL;
}

int acmpca_model_operation_has_error(const acmpca_operation_info *op, int code)
{
    size_t i;

    if (!op)
        return 0;
    for (i = 0; i < op->error_count; i++) {
        if (op->errors[i] == code)
            return 1;
    }
    return 0;
}

const char *acmpca_model_type_name(acmpca_shape_type type)
{
    switch (type) {
    case ACMPCA_SHAPE_STRUCTURE: return "structure";
    case ACMPCA_SHAPE_LIST: return "list";
    case ACMPCA_SHAPE_MAP: return "map";
    case ACMPCA_SHAPE_STRING: return "string";
    case ACMPCA_SHAPE_BLOB: return "blob";
    case ACMPCA_SHAPE_INTEGER: return "integer";
    case ACMPCA_SHAPE_LONG: return "long";
    case ACMPCA_SHAPE_BOOLEAN: return "boolean";
    case ACMPCA_SHAPE_TIMESTAMP: return "timestamp";
    }
    return "unknown";
}
