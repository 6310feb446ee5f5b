/* problems.c - the list of bad things found in a sweep. */
#include "config.h"

#include "problems.h"
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void sr_problems_init(sr_problems *p)
{
    p->items = NULL;
    p->n = 0;
    p->cap = 0;
}

void sr_problems_add(sr_problems *p, const char *path, const char *fmt, ...)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = xrealloc(p->items, p->cap * sizeof *p->items);
    }
    sr_buf b;
    va_list ap;
    sr_buf_init(&b);
    va_start(ap, fmt);
    sr_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    p->items[p->n].path = xstrdup(path);
    p->items[p->n].problem = sr_buf_steal(&b);
    p->n++;
}

int sr_problems_has(const sr_problems *p, const char *path, const char *problem)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].path, path) == 0 && strcmp(p->items[i].problem, problem) == 0)
            return 1;
    return 0;
}

void sr_problems_free(sr_problems *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].path);
        free(p->items[i].problem);
    }
    free(p->items);
    sr_problems_init(p);
}

void sr_problem_print(FILE *out, const char *path, const char *problem)
{
    char *p = sr_terminal_text(path, SIZE_MAX), *why = sr_terminal_text(problem, SIZE_MAX);
    fprintf(out, "sweepreport: %s: %s\n", p, why);
    free(why);
    free(p);
}

void sr_problems_print(FILE *out, const sr_problems *p)
{
    for (size_t i = 0; i < p->n; i++)
        sr_problem_print(out, p->items[i].path, p->items[i].problem);
}
