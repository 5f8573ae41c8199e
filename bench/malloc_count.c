/*
 * malloc_count.c - an LD_PRELOAD shim that counts heap allocations: every
 * malloc, calloc, realloc and aligned allocation of the process (libcurl's,
 * OpenSSL's and cJSON's included, whatever library calls them), forwarded to
 * glibc's own allocator. At exit it appends "PID ALLOCATIONS FREES BYTES" to
 * the file named by MALLOC_COUNT_OUT.
 *
 *   MALLOC_COUNT_OUT=/tmp/counts LD_PRELOAD=build/bench/libmalloc_count.so prog
 *
 * The harness runs a face with N and 2N calls and takes the difference / N,
 * so start-up and set-up cancel out. Counts only: no timing is taken here.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc's allocator under its own names: no dlsym, which itself allocates. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

static atomic_ulong allocations, frees, bytes;

__attribute__((visibility("default"))) void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, n, memory_order_relaxed);
    return __libc_malloc(n);
}

__attribute__((visibility("default"))) void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, n * size, memory_order_relaxed);
    return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, n, memory_order_relaxed);
    return __libc_realloc(p, n);
}

__attribute__((visibility("default"))) void free(void *p)
{
    if (p)
        atomic_fetch_add_explicit(&frees, 1, memory_order_relaxed);
    __libc_free(p);
}

__attribute__((visibility("default"))) int posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, n, memory_order_relaxed);
    if (!(p = __libc_memalign(align, n)))
        return 12; /* ENOMEM */
    *out = p;
    return 0;
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t align, size_t n)
{
    atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&bytes, n, memory_order_relaxed);
    return __libc_memalign(align, n);
}

void *memalign(size_t align, size_t n); /* obsolete: not declared by stdlib.h */
__attribute__((visibility("default"))) void *memalign(size_t align, size_t n)
{
    return aligned_alloc(align, n);
}

__attribute__((destructor)) static void report(void)
{
    char line[128];
    const char *path = getenv("MALLOC_COUNT_OUT");
    int fd, n;
    if (!path || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600)) < 0)
        return;
    n = snprintf(line, sizeof(line), "%ld %lu %lu %lu\n", (long)getpid(),
                 atomic_load(&allocations), atomic_load(&frees), atomic_load(&bytes));
    if (write(fd, line, (size_t)n) < 0)
        n = 0;
    close(fd);
}
