/* main.c - the sweepreport command line: global options and dispatch. */
#include "config.h"

#include "atomic_file.h"
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"run", cmd_run, "scan, evaluate and render in one go (the nightly job)"},
    {"scan", cmd_scan, "list every trial, checkpoint, sample and metric"},
    {"eval", cmd_eval, "measure every checkpoint that lacks metrics"},
    {"render", cmd_render, "write the HTML site, the PDF and summary.json"},
    {"inspect", cmd_inspect, "show one checkpoint file in detail"},
    {"demo", cmd_demo, "build a synthetic sweep and report on it"},
    {"synth", cmd_synth, "write a synthetic sweep (for demos, tests, benchmarks)"},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: sweepreport [--version] [--help] COMMAND [OPTIONS] ARGS\n"
            "\n"
            "Reports on a hyperparameter sweep of LoRA fine-tunes: finds every trial and\n"
            "checkpoint, measures what lacks metrics, scores, charts and recommends.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n"
            "Run 'sweepreport COMMAND --help' for the options of a command.\n"
            "\n"
            "Exit status: 0 ok, 1 fatal error, 2 usage error, 3 sweep locked by another run.\n");
}

void cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sweepreport: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sweepreport: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sweepreport %s --help'.\n", cmd);
    return SR_EXIT_USAGE;
}

/* The long option that arg ("--name" or "--name=value", abbreviated as
 * getopt allows) names, or NULL when none or several do. */
static const struct option *long_option_of(const struct option *longopts, const char *arg, int *matches)
{
    size_t n = strcspn(arg + 2, "=");
    const struct option *found = NULL;
    *matches = 0;
    for (const struct option *o = longopts; o->name; o++) {
        if (strncmp(o->name, arg + 2, n) != 0)
            continue;
        if (strlen(o->name) == n) { /* an exact name wins over abbreviations */
            *matches = 1;
            return o;
        }
        found = o;
        ++*matches;
    }
    return *matches == 1 ? found : NULL;
}

int cli_bad_option(const char *cmd, const char *shortopts, const struct option *longopts, char *const *argv)
{
    const char *arg = argv[optind - 1];
    int matches;
    /* argv[optind - 1] is the long option getopt refused, unless it stopped
     * inside a cluster of short ones ("-xq"), where optind has not moved on
     * and that is the argument before: a long reading must fit the error */
    if (strncmp(arg, "--", 2) == 0) {
        const struct option *o = long_option_of(longopts, arg, &matches);
        int n = (int)strcspn(arg, "=");
        if (optopt == 0)
            return cli_usage_error(cmd, matches > 1 ? "ambiguous option '%.*s'" : "unknown option '%.*s'", n, arg);
        if (o && o->val == optopt && arg[n] == '=' && o->has_arg == no_argument)
            return cli_usage_error(cmd, "option '--%s' takes no value", o->name);
        if (o && o->val == optopt && arg[n] != '=' && o->has_arg == required_argument)
            return cli_usage_error(cmd, "option '--%s' needs a value", o->name);
    }
    const char *in = optopt && optopt != ':' ? strchr(shortopts, optopt) : NULL;
    if (in && in[1] == ':')
        return cli_usage_error(cmd, "option '-%c' needs a value", optopt);
    if (optopt > ' ' && optopt < 127)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

int cli_parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_seconds(const char *s, double max, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !(v >= 0) || !(v <= max))
        return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return SR_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0) {
        printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
        return SR_EXIT_OK;
    }
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 || strcmp(arg, "help") == 0) {
        print_help(stdout);
        return SR_EXIT_OK;
    }
    /* the file mode mask is read now, before any thread could create a file
     * while it is read (where it can only be read by setting it) */
    (void)sr_umask();
#ifdef _OPENMP
    /* OMP_NUM_THREADS is the default of --jobs: at most four threads a core
     * (the work is all CPU; the system refuses far fewer threads than some
     * values ask).  --jobs itself may ask for more. */
    int most = 4 * omp_get_num_procs();
    if (most > SR_MAX_JOBS)
        most = SR_MAX_JOBS;
    if (omp_get_max_threads() > most)
        omp_set_num_threads(most);
#endif
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(arg, commands[i].name) != 0)
            continue;
        int rc = commands[i].run(argc - 1, argv + 1);
        /* what was printed must have reached its reader: a full disk under
         * "scan --json > FILE" is a failure, not a short file */
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "sweepreport: %s: cannot write the output: %s\n", arg,
                    errno ? strerror(errno) : "write error");
            if (rc == SR_EXIT_OK)
                rc = SR_EXIT_FATAL;
        }
        return rc;
    }
    if (arg[0] == '-')
        fprintf(stderr, "sweepreport: unknown option '%s'\n", arg);
    else
        fprintf(stderr, "sweepreport: unknown command '%s'\n", arg);
    fprintf(stderr, "Try 'sweepreport --help'.\n");
    return SR_EXIT_USAGE;
}
