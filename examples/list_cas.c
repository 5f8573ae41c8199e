/*
 * list_cas.c - create a client from the environment (region, credentials,
 * endpoint: see the README's configuration table) and list every private CA,
 * one page at a time.
 *
 *   AWS_REGION=us-east-1 ./list_cas
 */
#include <stdio.h>

#include <acmpca.h>

int main(void)
{
    acmpca_client *client = NULL;
    acmpca_paginator *pages = NULL;
    cJSON *page = NULL, *ca;
    const acmpca_error *err;
    int rc, count = 0;

    if (acmpca_global_init() != 0)
        return 1;
    rc = acmpca_client_new(&client, NULL);
    if (rc == 0)
        rc = acmpca_paginator_new(&pages, client, "ListCertificateAuthorities", NULL, 0, 0, NULL);
    while (rc == 0 && (rc = acmpca_paginator_next(pages, &page)) == 0 && page) {
        cJSON_ArrayForEach(ca, cJSON_GetObjectItem(page, "CertificateAuthorities")) {
            printf("%s  %s  %s\n", cJSON_GetStringValue(cJSON_GetObjectItem(ca, "Arn")),
                   cJSON_GetStringValue(cJSON_GetObjectItem(ca, "Type")),
                   cJSON_GetStringValue(cJSON_GetObjectItem(ca, "Status")));
            count++;
        }
        cJSON_Delete(page);
    }
    if (rc != 0) {
        err = acmpca_error_last();
        fprintf(stderr, "error: %s%s%s (%s, HTTP %d, request id %s)\n", err->aws_code,
                err->aws_code[0] ? ": " : "", err->message, acmpca_strerror(err->code),
                err->http_status, err->request_id[0] ? err->request_id : "-");
    } else {
        printf("%d certificate authorities\n", count);
    }
    acmpca_paginator_free(pages);
    acmpca_client_free(client);
    acmpca_global_cleanup();
    return rc == 0 ? 0 : 1;
}
