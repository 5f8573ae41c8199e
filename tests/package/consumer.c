/* consumer.c - links against an installed libacmpca and checks the versions agree. */
#include <stdio.h>
#include <string.h>

#include <acmpca.h>

int main(void)
{
    const acmpca_operation_info *op = acmpca_model_operation_find("issue_certificate");
    if (acmpca_version_number() != ACMPCA_VERSION_NUMBER || !op ||
        strcmp(op->name, "IssueCertificate") != 0) {
        fprintf(stderr, "consumer: header %s, library %s\n", ACMPCA_VERSION, acmpca_version());
        return 1;
    }
    printf("acmpca %s, %zu operations\n", acmpca_version(), acmpca_model_operation_count());
    return 0;
}
