/* score_expr.h - the --score expression: arithmetic over metric names.
 *
 * Grammar (whitespace is free between tokens):
 *   expr    := term (('+' | '-') term)*
 *   term    := unary (('*' | '/') unary)*
 *   unary   := ('-' | '+') unary | primary
 *   primary := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
 * NUMBER is decimal with an optional exponent (12, 0.5, .5, 1e-3); NAME is
 * [A-Za-z_][A-Za-z0-9_.]* or any text in double quotes (for metric names
 * with other characters).  FUNC is abs, sqrt, log (natural) with one argument
 * or min, max with two or more.  Nesting (parentheses, calls, unary signs)
 * is limited to SR_SCORE_MAX_DEPTH levels.
 *
 * Evaluation: a checkpoint that lacks a metric the expression names has no
 * score (NAN); a result that is not finite (division by zero, log of 0,
 * sqrt of a negative) is no score either. */
#ifndef SR_SCORE_EXPR_H
#define SR_SCORE_EXPR_H

#include "sweep.h"

#include <stddef.h>

#define SR_SCORE_MAX_DEPTH 64

/* The seed's objective, pixar_score, spelled out from the metrics eval
 * writes; used for a checkpoint that has those but no pixar_score. */
#define SR_SCORE_PIXAR_FORMULA \
    "abs(mean_brightness - 0.5) + 0.5*std_brightness + abs(mean_contrast - 0.2) + 0.5*std_contrast"

typedef struct sr_score_expr sr_score_expr;

/* Compiles text.  names (n_names of them) are the metric names that exist;
 * a name outside them is an error listing them.  names NULL accepts every
 * name.  Returns NULL with a message (with the 1-based column) in err. */
sr_score_expr *sr_score_compile(const char *text, const char *const *names, size_t n_names, char *err,
                                size_t errlen);

/* The score of one set of metrics, or NAN. */
double sr_score_eval(const sr_score_expr *e, const sr_metrics *m);

/* The distinct metric names the expression reads, in order of appearance. */
size_t sr_score_n_metrics(const sr_score_expr *e);
const char *sr_score_metric(const sr_score_expr *e, size_t i);

void sr_score_free(sr_score_expr *e);

#endif
