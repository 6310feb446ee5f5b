/* problems.h - the list of bad things found in a sweep.
 *
 * Nothing inside a sweep stops a run: each unreadable, broken or half-written
 * file becomes one entry here (the file and the reason) and the stage goes on. */
#ifndef SR_PROBLEMS_H
#define SR_PROBLEMS_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char *path;
    char *problem;
} sr_problem;

typedef struct {
    sr_problem *items;
    size_t n;
    size_t cap;
} sr_problems;

void sr_problems_init(sr_problems *p);
void sr_problems_add(sr_problems *p, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 1 when p already lists this problem of this path. */
int sr_problems_has(const sr_problems *p, const char *path, const char *problem);
void sr_problems_free(sr_problems *p);

/* "sweepreport: PATH: PROBLEM" on one line of out, whatever bytes the
 * path holds (sr_terminal_text); and every problem of p so. */
void sr_problem_print(FILE *out, const char *path, const char *problem);
void sr_problems_print(FILE *out, const sr_problems *p);

#endif
