/*
 * fault_control.h - the tests' side of tests/fixtures/fault_server.py's
 * control API: script the next answers, read back what the server received;
 * and of fixture_server.py's counters. Header-only (static functions) for the
 * C tests that run under `with_server.py fault` (or `fixture`); uses libcurl
 * for the control requests only.
 */
#ifndef FAULT_CONTROL_H
#define FAULT_CONTROL_H

#if defined(__GNUC__)
#  define FAULT_UNUSED __attribute__((unused))
#else
#  define FAULT_UNUSED
#endif

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "check.h"

FAULT_UNUSED static const char *fault_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run under tests/fixtures/with_server.py\n", name);
        exit(2);
    }
    return v;
}

static size_t fault_sink(char *data, size_t size, size_t n, void *userp)
{
    return fwrite(data, size, n, (FILE *)userp);
}

/* A request to the control API; the body of its 200 answer (caller frees). */
FAULT_UNUSED static char *fault_control(const char *method, const char *path, const char *body)
{
    CURL *h = curl_easy_init();
    char url[512], *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    long status = 0;
    CURLcode rc;

    REQUIRE(h != NULL && out != NULL);
    snprintf(url, sizeof(url), "%s%s", fault_env("ACMPCA_TEST_ENDPOINT"), path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fault_sink);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(h);
    fclose(out);
    if (rc != CURLE_OK || status != 200) {
        fprintf(stderr, "control %s %s failed: %s, HTTP %ld: %s\n", method, path,
                curl_easy_strerror(rc), status, text ? text : "");
        exit(1);
    }
    return text;
}

/* Forget everything, then script the next answers (a JSON list of actions). */
FAULT_UNUSED static void fault_script(const char *actions_json)
{
    free(fault_control("POST", "/_fault/reset", ""));
    free(fault_control("POST", "/_fault/script", actions_json));
}

/* What the server received: the "requests" array of a document the caller frees. */
FAULT_UNUSED static cJSON *fault_received(cJSON **doc)
{
    char *text = fault_control("GET", "/_fault/requests", NULL);
    cJSON *list;
    *doc = cJSON_Parse(text);
    free(text);
    list = cJSON_GetObjectItemCaseSensitive(*doc, "requests");
    REQUIRE(cJSON_IsArray(list));
    return list;
}

FAULT_UNUSED static int fault_received_count(void)
{
    cJSON *doc;
    int n = cJSON_GetArraySize(fault_received(&doc));
    cJSON_Delete(doc);
    return n;
}

/*
 * tests/fixtures/fixture_server.py's counters (GET /_stats), or POST
 * /_stats/reset's answer: a document the caller frees.
 */
FAULT_UNUSED static cJSON *fixture_stats(int reset)
{
    char *text = fault_control(reset ? "POST" : "GET", reset ? "/_stats/reset" : "/_stats",
                               reset ? "" : NULL);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    REQUIRE(doc != NULL);
    return doc;
}

#endif
