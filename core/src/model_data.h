/*
 * model_data.h - the generated operation table (model_data.c, written by
 * tools/gen_model.py). Private: read it through acmpca/model.h.
 */
#ifndef ACMPCA_MODEL_DATA_H
#define ACMPCA_MODEL_DATA_H

#include "acmpca/model.h"
#include "acmpca/operations.h"

/* Indexed by acmpca_operation: acmpca__operations[i].id == i. */
extern const acmpca_operation_info acmpca__operations[ACMPCA_OP_COUNT];

#endif
