/*
 * curl_lazy.h - the table of libcurl functions that acmpca/_curl*.so
 * (curl/curl_table.c, linked against libcurl) exports and the extension
 * loads at its first transfer (curl_lazy.c): every libcurl function the core
 * calls, and nothing else.
 */
#ifndef ACMPCA_CURL_LAZY_H
#define ACMPCA_CURL_LAZY_H

#include <stddef.h>

#include <curl/curl.h>

/* The exported symbol; its name changes with the table's layout. */
#define ACMPCA_CURL_TABLE "acmpca_curl_table_2"

typedef struct acmpca_curl_table {
    size_t size; /* sizeof(acmpca_curl_table) where it was built */
    CURLcode (*global_init)(long flags);
    CURLcode (*global_init_mem)(long flags, curl_malloc_callback m, curl_free_callback f,
                                curl_realloc_callback r, curl_strdup_callback s,
                                curl_calloc_callback c);
    void (*global_cleanup)(void);
    curl_version_info_data *(*version_info)(CURLversion age);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *e, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *e, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *e);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_perform)(CURL *e);
    CURLcode (*easy_send)(CURL *e, const void *buffer, size_t buflen, size_t *n);
    CURLcode (*easy_recv)(CURL *e, void *buffer, size_t buflen, size_t *n);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_add_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_remove_handle)(CURLM *m, CURL *e);
    CURLMcode (*multi_perform)(CURLM *m, int *running);
    CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd extra_fds[], unsigned int extra_nfds,
                            int timeout_ms, int *numfds);
    CURLMsg *(*multi_info_read)(CURLM *m, int *msgs_in_queue);
    CURLMcode (*multi_cleanup)(CURLM *m);
} acmpca_curl_table;

#endif
