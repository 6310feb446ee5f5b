/* sampler.h - run a user's image sampler for a checkpoint without samples.
 *
 * The user gives a command template such as
 *     python render.py --lora {checkpoint} --out {outdir} --count {n}
 * It is split into words once, like a shell would split it but with no
 * expansion of any kind, and run with fork/execvp: the placeholders are
 * replaced inside the words, so a file name can never become shell syntax. */
#ifndef SR_SAMPLER_H
#define SR_SAMPLER_H

#include <stddef.h>

typedef struct {
    char **argv; /* the template, split into words (argc entries, then NULL) */
    size_t argc;
} sr_sampler;

/* Splits the template into words.  Whitespace separates words; '...' keeps
 * everything literally; "..." groups, and inside it a backslash escapes only
 * " \ $ ` and a newline (as in the POSIX shell); outside quotes a backslash
 * makes the next character literal.  Adjacent pieces form one word, "" is an
 * empty word.  Nothing is expanded: no variables, globs, ~ or substitutions.
 * Errors: an empty command, an unbalanced quote, a trailing backslash, and a
 * template without {checkpoint} or without {outdir} (the reason says which).
 * Returns 0, or -1 with a reason in err (*out is then empty). */
int sr_sampler_parse(const char *template_str, sr_sampler *out, char *err, size_t errlen);

/* The command line for one run: each word with {checkpoint}, {outdir} and {n}
 * replaced wherever they occur in it (one pass: text that a replacement
 * brings in is never replaced again).  NULL-terminated; free with
 * sr_sampler_argv_free. */
char **sr_sampler_argv(const sr_sampler *s, const char *checkpoint, const char *outdir, int n);
void sr_sampler_argv_free(char **argv);

/* Runs the command once and waits for it.  The caller creates outdir.
 * - No shell: fork + execvp of the substituted words; stdin is /dev/null.
 * - stdout and stderr go to log_path (truncated; it starts with a line that
 *   shows the command), or to an unnamed temporary file when log_path is NULL.
 * - The command runs in a process group of its own.  After timeout_s seconds
 *   (<= 0 or NaN: no limit) the whole group gets SIGTERM, then SIGKILL 5 s
 *   later.  Processes that the command leaves behind when it exits are ended
 *   the same way, so nothing keeps writing into outdir afterwards.
 * Returns 0 when the command exits with status 0.  Otherwise -1 with a
 * reason in err, e.g. "timed out after 600 s (killed)",
 * "exited with status 3: <last line of its output>", "killed by signal 9",
 * "cannot run 'x': No such file or directory". */
int sr_sampler_run(const sr_sampler *s, const char *checkpoint, const char *outdir, int n, double timeout_s,
                   const char *log_path, char *err, size_t errlen);

void sr_sampler_free(sr_sampler *s);

#endif
