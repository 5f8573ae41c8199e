/*
 * table.c - `--output table`: a result drawn as boxed tables, as the AWS
 * CLI draws them. An object is a box of key | value rows; a list of objects
 * is one box with a column per scalar member; nested objects and lists
 * follow their parent as boxes of their own, one '|' deeper on each side.
 * A value with several lines (a PEM) takes one row per line.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_COLUMNS 64

typedef struct box {
    const char *title;
    const char *names[MAX_COLUMNS]; /* column headers; NULL name: key | value box */
    size_t width[MAX_COLUMNS];
    size_t columns;
    int depth;
} box;

/* Characters on screen: UTF-8 continuation bytes take no column. */
static size_t text_width(const char *s, size_t n)
{
    size_t w = 0, i;
    for (i = 0; i < n; i++)
        w += ((unsigned char)s[i] & 0xC0) != 0x80;
    return w;
}

static int is_scalar(const cJSON *v)
{
    return !cJSON_IsObject(v) && !cJSON_IsArray(v);
}

/* A scalar as text (caller frees); NULL prints as an empty cell. */
static char *cell_text(const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return strdup("");
    if (cJSON_IsString(v))
        return strdup(v->valuestring);
    return cJSON_PrintUnformatted(v);
}

/* The widest line of a cell. */
static size_t cell_width(const cJSON *v)
{
    char *t = cell_text(v), *p = t;
    size_t w = 0;
    while (p && *p) {
        size_t n = strcspn(p, "\n"), lw = text_width(p, n);
        w = lw > w ? lw : w;
        p += n + (p[n] == '\n');
    }
    free(t);
    return w;
}

/* A nested box's outer borders. */
static void edge(const box *b)
{
    int i;
    for (i = 0; i < b->depth; i++)
        putchar('|');
}

static size_t inner_width(const box *b)
{
    size_t i, w = 0;
    for (i = 0; i < b->columns; i++)
        w += b->width[i] + 4; /* "  text  " */
    return w + (b->columns ? b->columns - 1 : 0);
}

static void rule(const box *b, int plain)
{
    size_t i, k;
    edge(b);
    putchar(plain ? '-' : '+');
    for (i = 0; i < b->columns; i++) {
        for (k = 0; k < b->width[i] + 4; k++)
            putchar('-');
        if (i + 1 < b->columns)
            putchar(plain ? '-' : '+');
    }
    putchar(plain ? '-' : '+');
    edge(b);
    putchar('\n');
}

static void padded(const char *s, size_t n, size_t width)
{
    size_t w = text_width(s, n);
    printf("  %.*s%*s  ", (int)n, s, (int)(width > w ? width - w : 0), "");
}

static void title_row(const box *b)
{
    size_t inner = inner_width(b), w = text_width(b->title, strlen(b->title));
    size_t left = inner > w ? (inner - w) / 2 : 0;
    edge(b);
    printf("|%*s%s%*s|", (int)left, "", b->title, (int)(inner > w ? inner - w - left : 0), "");
    edge(b);
    putchar('\n');
}

/* One row of cells; a cell with several lines spreads over several rows. */
static void row(const box *b, char **cells)
{
    const char *at[MAX_COLUMNS];
    size_t i;
    int more = 1;

    for (i = 0; i < b->columns; i++)
        at[i] = cells[i] ? cells[i] : "";
    while (more) {
        more = 0;
        edge(b);
        putchar('|');
        for (i = 0; i < b->columns; i++) {
            size_t n = strcspn(at[i], "\n");
            padded(at[i], n, b->width[i]);
            at[i] += n + (at[i][n] == '\n');
            more |= at[i][0] != '\0';
            putchar('|');
        }
        edge(b);
        putchar('\n');
    }
}

static void draw(const char *title, const cJSON *v, int depth);

/* key | value rows for an object's scalars, then its nested members. */
static void draw_object(const char *title, const cJSON *v, int depth)
{
    box b = {title, {NULL}, {0, 0}, 2, depth};
    const cJSON *el;
    int rows = 0;

    cJSON_ArrayForEach(el, v) {
        size_t kw, vw;
        if (!is_scalar(el))
            continue;
        kw = text_width(el->string, strlen(el->string));
        vw = cell_width(el);
        b.width[0] = kw > b.width[0] ? kw : b.width[0];
        b.width[1] = vw > b.width[1] ? vw : b.width[1];
        rows++;
    }
    if (!v->child)
        return;
    if (!rows) {
        /* Only nested members: a title box above them, as the AWS CLI draws it. */
        b.columns = 1;
        b.width[0] = text_width(title, strlen(title));
        rule(&b, 1);
        title_row(&b);
        rule(&b, 0);
    } else {
        size_t tw = text_width(title, strlen(title));
        if (inner_width(&b) < tw)
            b.width[1] += tw - inner_width(&b);
        rule(&b, 1);
        title_row(&b);
        rule(&b, 0);
        cJSON_ArrayForEach(el, v) {
            char *cells[2];
            if (!is_scalar(el))
                continue;
            cells[0] = el->string;
            cells[1] = cell_text(el);
            row(&b, cells);
            free(cells[1]);
        }
        rule(&b, 0);
    }
    cJSON_ArrayForEach(el, v)
        if (!is_scalar(el))
            draw(el->string, el, depth + 1);
}

/* A list of objects: a column per scalar member (in the order first seen). */
static void draw_list(const char *title, const cJSON *v, int depth)
{
    box b = {title, {NULL}, {0}, 0, depth};
    const cJSON *item, *el;
    char *cells[MAX_COLUMNS];
    size_t i, tw = text_width(title, strlen(title));
    int scalars = 0, objects = 0;

    cJSON_ArrayForEach(item, v) {
        const cJSON *members = cJSON_IsObject(item) ? item : NULL;
        scalars |= is_scalar(item);
        objects |= members != NULL;
        cJSON_ArrayForEach(el, members) {
            size_t w;
            if (!is_scalar(el))
                continue;
            for (i = 0; i < b.columns && strcmp(b.names[i], el->string) != 0; i++)
                ;
            if (i == b.columns) {
                if (b.columns == MAX_COLUMNS)
                    continue;
                b.names[b.columns] = el->string;
                b.width[b.columns++] = text_width(el->string, strlen(el->string));
            }
            w = cell_width(el);
            b.width[i] = w > b.width[i] ? w : b.width[i];
        }
    }
    if (scalars || !objects) {
        /* Scalars (or lists of lists): one value per row. */
        b.columns = 1;
        b.width[0] = 0;
        cJSON_ArrayForEach(item, v) {
            size_t w = is_scalar(item) ? cell_width(item) : 0;
            b.width[0] = w > b.width[0] ? w : b.width[0];
        }
        if (b.width[0] < tw)
            b.width[0] = tw;
        rule(&b, 1);
        title_row(&b);
        rule(&b, 0);
        cJSON_ArrayForEach(item, v) {
            if (!is_scalar(item))
                continue;
            cells[0] = cell_text(item);
            row(&b, cells);
            free(cells[0]);
        }
        rule(&b, 0);
        cJSON_ArrayForEach(item, v)
            if (!is_scalar(item))
                draw(title, item, depth + 1);
        return;
    }
    if (b.columns) {
        if (inner_width(&b) < tw)
            b.width[b.columns - 1] += tw - inner_width(&b);
        rule(&b, 1);
        title_row(&b);
        rule(&b, 0);
        row(&b, (char **)b.names);
        rule(&b, 0);
        cJSON_ArrayForEach(item, v) {
            for (i = 0; i < b.columns; i++)
                cells[i] = cell_text(cJSON_GetObjectItemCaseSensitive(item, b.names[i]));
            row(&b, cells);
            for (i = 0; i < b.columns; i++)
                free(cells[i]);
        }
        rule(&b, 0);
    }
    cJSON_ArrayForEach(item, v)
        cJSON_ArrayForEach(el, item)
            if (!is_scalar(el))
                draw(el->string, el, b.columns ? depth + 1 : depth);
}

static void draw(const char *title, const cJSON *v, int depth)
{
    if (cJSON_IsObject(v)) {
        draw_object(title, v, depth);
    } else if (cJSON_IsArray(v)) {
        draw_list(title, v, depth);
    } else if (!cJSON_IsNull(v)) {
        cJSON *one = cJSON_CreateArray();
        if (one && cJSON_AddItemReferenceToArray(one, (cJSON *)v))
            draw_list(title, one, depth);
        cJSON_Delete(one);
    }
}

void cli_print_table(const char *title, const cJSON *v)
{
    draw(title && *title ? title : "Result", v, 0);
}
