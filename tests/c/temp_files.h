/*
 * temp_files.h - temporary files with a given text, for the C tests that read
 * files (the shared config and credentials files); remove_temp_files() removes
 * them all. Static: include it, after check.h, in the one test that uses it.
 */
#ifndef ACMPCA_TEMP_FILES_H
#define ACMPCA_TEMP_FILES_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *temp_paths[32];
static size_t temp_count;

/* A temporary file holding `len` bytes of `text`. */
static const char *temp_file_n(const char *text, size_t len)
{
    char tmpl[] = "/tmp/acmpca-test-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text, len) == (ssize_t)len);
    close(fd);
    REQUIRE(temp_count < sizeof(temp_paths) / sizeof(temp_paths[0]));
    temp_paths[temp_count] = strdup(tmpl);
    REQUIRE(temp_paths[temp_count]);
    return temp_paths[temp_count++];
}

static const char *temp_file(const char *text)
{
    return temp_file_n(text, strlen(text));
}

static void remove_temp_files(void)
{
    size_t i;
    for (i = 0; i < temp_count; i++) {
        unlink(temp_paths[i]);
        free(temp_paths[i]);
    }
    temp_count = 0;
}

#endif
