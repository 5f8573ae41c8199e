/*
 * socket_driver.h - the tests' second driver of the call machine: plain
 * blocking sockets, no libcurl (see socket_driver.c).
 */
#ifndef SOCKET_DRIVER_H
#define SOCKET_DRIVER_H

#include "acmpca.h"

/* Carry out one SEND step of `m` and report the answer or the failure. */
void socket_driver_send(acmpca_machine *m, const acmpca_step *s);
/* Drive `m` to DONE (0) or FAILED (the error code, detail in acmpca_error_last()). */
int socket_driver_run(acmpca_machine *m);
/* acmpca_call_ex through the socket driver. */
int socket_driver_call(acmpca_client *c, const char *operation, const cJSON *input, cJSON **out,
                       acmpca_response_meta **meta);

#endif
