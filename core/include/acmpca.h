/*
 * acmpca.h - the umbrella header of libacmpca, a client SDK for AWS Private
 * CA (ACM PCA). Include this one; it pulls in each area's header.
 *
 * The data model of calls is cJSON (<cjson/cJSON.h>); see acmpca/client.h.
 */
#ifndef ACMPCA_H
#define ACMPCA_H

#include "acmpca/common.h"
#include "acmpca/model.h"
#include "acmpca/operations.h"
#include "acmpca/sign.h"
#include "acmpca/endpoint.h"
#include "acmpca/credentials.h"
#include "acmpca/client.h"
#include "acmpca/waiter.h"
#include "acmpca/machine.h"
#include "acmpca/pki.h"

#endif
