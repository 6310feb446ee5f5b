/* cli.h - the subcommands of the sweepreport program. */
#ifndef SR_CLI_H
#define SR_CLI_H

#include <getopt.h>

/* Exit codes, documented in --help and the manual page. */
enum {
    SR_EXIT_OK = 0,
    SR_EXIT_FATAL = 1,
    SR_EXIT_USAGE = 2,
    SR_EXIT_LOCKED = 3
};

/* The most threads --jobs (and OMP_NUM_THREADS) may ask for. */
#define SR_MAX_JOBS 4096

/* Each command gets argv with argv[0] = the command name. */
int cmd_scan(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* "sweepreport: CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "Try 'sweepreport CMD --help'." and returns SR_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The usage error for what getopt_long just refused (it returned '?'):
 * names the option as given, and says whether it is unknown, ambiguous,
 * lacks its value or takes none.  Returns SR_EXIT_USAGE. */
int cli_bad_option(const char *cmd, const char *shortopts, const struct option *longopts, char *const *argv);
/* Whether a --sampler template can work; a usage error (SR_EXIT_USAGE,
 * printed) when not, else SR_EXIT_OK. */
int cli_sampler_check(const char *cmd, const char *tmpl);
/* Parses a positive int option value; returns 0 or -1. */
int cli_parse_int(const char *s, int min, int max, int *out);
/* Parses a number of seconds from 0 to max (fractions allowed); returns 0 or -1. */
int cli_parse_seconds(const char *s, double max, double *out);

#endif
