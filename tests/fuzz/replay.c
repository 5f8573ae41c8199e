/*
 * replay.c - a main() for the fuzz targets when libFuzzer is not used (gcc,
 * or a build without -DACMPCA_FUZZ=ON): runs every file named on the command
 * line, and every regular file of every directory named, through
 * LLVMFuzzerTestOneInput, in name order. A broken invariant aborts; ctest
 * registers one replay per target over its committed corpus.
 *
 *   fuzz_<target>_replay PATH...
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL, *grown;
    size_t len = 0, cap = 0, n;

    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            if (!(grown = realloc(data, cap))) {
                fprintf(stderr, "%s: out of memory\n", path);
                free(data);
                fclose(f);
                return -1;
            }
            data = grown;
        }
        n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    /* An exact-size copy, so that reading past the input is caught under ASan. */
    grown = malloc(len ? len : 1);
    if (!grown) {
        free(data);
        return -1;
    }
    if (len)
        memcpy(grown, data, len);
    free(data);
    LLVMFuzzerTestOneInput(grown, len);
    free(grown);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, **grown, path[4096];
    size_t n = 0, i;
    int rc = 0;
    struct stat st;

    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (!(grown = realloc(names, (n + 1) * sizeof(*names))) ||
            !(grown[n] = malloc(strlen(e->d_name) + 1))) {
            names = grown ? grown : names;
            rc = -1;
            break;
        }
        names = grown;
        strcpy(names[n++], e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), by_name);
    for (i = 0; i < n; i++) {
        if (rc == 0) {
            snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                rc = run_file(path);
                (*count)++;
            }
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    struct stat st;
    int i, count = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) != 0 : run_file(argv[i]) != 0)
            return 1;
        if (!S_ISDIR(st.st_mode))
            count++;
    }
    printf("replayed %d input(s) without a crash\n", count);
    return count > 0 ? 0 : 1;
}
