/* cmd_scan.c - sweepreport scan: what is in a sweep folder. */
#include "config.h"

#include "cli.h"
#include "json.h"
#include "scan.h"
#include "scan_output.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void scan_help(void)
{
    printf("Usage: sweepreport scan [--json] [-q] [--settle SECONDS] [--study PATH] [--study-name NAME] SWEEP\n"
           "\n"
           "Finds every trial_* folder of SWEEP and in it the hyperparameters, every\n"
           "checkpoint (kohya epoch, step and final names), its samples and the metrics\n"
           "evaluators already wrote.  Reads only checkpoint headers, never tensor data.\n"
           "\n"
           "  --json             print the scan as JSON (the format scripts rely on)\n"
           "  --study PATH       the Optuna storage (default: SWEEP/optuna_study.db, else\n"
           "                     SWEEP/results/all_trials.json)\n"
           "  --study-name NAME  the study to read when the storage holds several\n"
           "  --settle SECONDS   show checkpoints modified less than SECONDS ago as\n"
           "                     pending, as run, eval and render do (default 0: show\n"
           "                     every file as it is now)\n"
           "  -q, --quiet        with --json: do not repeat problems on stderr\n"
           "  -h, --help         show this help\n"
           "\n"
           "Problems inside the sweep (broken files, half-written checkpoints) are\n"
           "listed and the scan goes on.  Exit status: 0 ok, 1 the sweep folder cannot\n"
           "be read, 2 usage error.\n");
}

int cmd_scan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"study", required_argument, NULL, 's'},
        {"study-name", required_argument, NULL, 'n'},
        {"settle", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, quiet = 0, c;
    sr_scan_opts sopts = {0};
    static const char shortopts[] = "qh";
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 's':
            sopts.study_path = optarg;
            break;
        case 'n':
            sopts.study_name = optarg;
            break;
        case 'S':
            if (cli_parse_seconds(optarg, 1e9, &sopts.settle) != 0)
                return cli_usage_error("scan", "--settle needs a number of seconds, not '%s'", optarg);
            break;
        case 'h':
            scan_help();
            return SR_EXIT_OK;
        default:
            return cli_bad_option("scan", shortopts, opts, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("scan", argc - optind == 0 ? "missing the SWEEP folder" : "too many arguments");

    sr_sweep sweep;
    char err[SR_MSG_MAX];
    if (sr_scan_with(argv[optind], &sopts, &sweep, err, sizeof err) != 0) {
        cli_error("scan", "%s", err);
        return SR_EXIT_FATAL;
    }
    if (json) {
        cJSON *doc = sr_scan_to_json(&sweep);
        char *text = sr_json_print(doc);
        fputs(text, stdout);
        free(text);
        cJSON_Delete(doc);
        if (!quiet)
            sr_problems_print(stderr, &sweep.problems);
    } else {
        sr_scan_print_text(&sweep, stdout);
    }
    sr_sweep_free(&sweep);
    return SR_EXIT_OK;
}
