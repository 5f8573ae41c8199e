/*
 * curl_table.c - acmpca/_curl*.so, the one object of the Python package
 * linked against libcurl. It only hands the extension (which dlopen()s it at
 * its first transfer: ../curl_lazy.c) the addresses of the libcurl functions
 * the core calls. Being a shared object of the wheel with libcurl as a
 * DT_NEEDED entry, auditwheel bundles libcurl for it; and the table's
 * references keep that entry under -Wl,--as-needed.
 */
#include "curl_lazy.h"

__attribute__((visibility("default"))) const acmpca_curl_table acmpca_curl_table_2 = {
    .size = sizeof(acmpca_curl_table),
    .global_init = curl_global_init,
    .global_init_mem = curl_global_init_mem,
    .global_cleanup = curl_global_cleanup,
    .version_info = curl_version_info,
    .easy_init = curl_easy_init,
    .easy_setopt = curl_easy_setopt,
    .easy_getinfo = curl_easy_getinfo,
    .easy_cleanup = curl_easy_cleanup,
    .easy_strerror = curl_easy_strerror,
    .easy_perform = curl_easy_perform,
    .easy_send = curl_easy_send,
    .easy_recv = curl_easy_recv,
    .multi_init = curl_multi_init,
    .multi_add_handle = curl_multi_add_handle,
    .multi_remove_handle = curl_multi_remove_handle,
    .multi_perform = curl_multi_perform,
    .multi_poll = curl_multi_poll,
    .multi_info_read = curl_multi_info_read,
    .multi_cleanup = curl_multi_cleanup,
};
