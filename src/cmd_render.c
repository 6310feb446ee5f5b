/* cmd_render.c - sweepreport render and run. */
#include "config.h"

#include "cli.h"
#include "eval.h"
#include "render.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void render_help(const char *cmd)
{
    int run = strcmp(cmd, "run") == 0;
    printf("Usage: sweepreport %s [OPTIONS] SWEEP\n\n", cmd);
    if (run)
        printf("The whole job: measures every checkpoint that lacks metrics (as 'sweepreport\n"
               "eval'), then writes the report (as 'sweepreport render').\n\n");
    else
        printf("Scores every checkpoint, picks the best one and writes the report into OUT:\n"
               "index.html and trials/*.html (a static site that opens from disk),\n"
               "summary.json (the scan document plus scores, the recommendation, runners-up\n"
               "and hyperparameter importance) and the charts (charts/*.svg, *.png).  The\n"
               "report is written beside OUT and swapped in at the end, so a reader never\n"
               "sees half of it.\n\n");
    printf("  -o, --output OUT       the report folder (default SWEEP/sweepreport)\n"
           "  --score EXPR           the score: metric names with + - * / ( ), numbers and\n"
           "                         abs min max sqrt log (default: the seed's pixar_score)\n"
           "  --minimize             lower scores are better (the default)\n"
           "  --maximize             higher scores are better\n"
           "  --prefer-earlier PCT   recommend the earliest checkpoint within PCT %% of the\n"
           "                         best score (default 0)\n"
           "  --self-contained       one index.html with images inline, for mailing\n"
           "  --archive              also write SWEEP/<trial>/<trial>_report.pdf (PDF/A-3b)\n"
           "                         beside each trial's checkpoints\n"
           "  --templates DIR        use these page templates instead of the installed ones\n"
           "  --study PATH           the Optuna storage (default SWEEP/optuna_study.db)\n"
           "  --study-name NAME      the study, when the storage holds several\n");
    if (run)
        printf("  --device DEV           auto, cpu, cuda or cuda:N (default auto)\n"
               "  --jobs N               CPU threads (default: all cores)\n"
               "  --sampler 'CMD ...'    render samples for checkpoints that have none\n"
               "  --sampler-timeout S    kill a sampler run after S seconds (default 600)\n");
    printf("  -q, --quiet            print only errors\n"
           "  -h, --help             show this help\n"
           "\n"
           "The last line says where the report is and what is recommended.\n"
           "Exit status: 0 ok, 1 fatal error, 2 usage error (e.g. an unknown metric).\n");
}

static int render_or_run(int argc, char **argv, int run)
{
    const char *cmd = run ? "run" : "render";
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},       {"score", required_argument, NULL, 'S'},
        {"minimize", no_argument, NULL, 'm'},           {"maximize", no_argument, NULL, 'M'},
        {"prefer-earlier", required_argument, NULL, 'p'}, {"study", required_argument, NULL, 's'},
        {"study-name", required_argument, NULL, 'N'},   {"device", required_argument, NULL, 'd'},
        {"jobs", required_argument, NULL, 'j'},         {"sampler", required_argument, NULL, 'X'},
        {"sampler-timeout", required_argument, NULL, 'T'}, {"quiet", no_argument, NULL, 'q'},
        {"templates", required_argument, NULL, 't'},    {"self-contained", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},               {"archive", no_argument, NULL, 'A'},
        {NULL, 0, NULL, 0},
    };
    sr_render_opts ro;
    memset(&ro, 0, sizeof ro);
    sr_eval_opts eo;
    sr_eval_defaults(&eo);
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        char *end;
        if (!run && (c == 'd' || c == 'j' || c == 'X' || c == 'T'))
            return cli_usage_error(cmd, "unknown option '%s' (it belongs to 'sweepreport run')", argv[optind - 1]);
        switch (c) {
        case 'o':
            ro.out_dir = optarg;
            break;
        case 't':
            ro.templates_dir = optarg;
            break;
        case 'c':
            ro.self_contained = 1;
            break;
        case 'A':
            ro.archive = 1;
            break;
        case 'S':
            ro.analysis.expression = optarg;
            break;
        case 'm':
            ro.analysis.maximize = 0;
            break;
        case 'M':
            ro.analysis.maximize = 1;
            break;
        case 'p':
            errno = 0;
            ro.analysis.prefer_earlier = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(ro.analysis.prefer_earlier >= 0) ||
                !isfinite(ro.analysis.prefer_earlier))
                return cli_usage_error(cmd, "--prefer-earlier needs a percentage, not '%s'", optarg);
            break;
        case 's':
            ro.scan.study_path = eo.scan.study_path = optarg;
            break;
        case 'N':
            ro.scan.study_name = eo.scan.study_name = optarg;
            break;
        case 'd':
            eo.device = optarg;
            break;
        case 'j':
            if (cli_parse_int(optarg, 1, 4096, &eo.jobs) != 0)
                return cli_usage_error(cmd, "--jobs needs a number from 1 to 4096, not '%s'", optarg);
            break;
        case 'X':
            eo.sampler = optarg;
            break;
        case 'T':
            errno = 0;
            eo.sampler_timeout = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(eo.sampler_timeout > 0) || !isfinite(eo.sampler_timeout))
                return cli_usage_error(cmd, "--sampler-timeout needs a number of seconds, not '%s'", optarg);
            break;
        case 'q':
            ro.quiet = eo.quiet = 1;
            break;
        case 'h':
            render_help(cmd);
            return SR_EXIT_OK;
        default:
            return cli_usage_error(cmd, "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(cmd, argc - optind == 0 ? "missing the SWEEP folder" : "too many arguments");
    const char *sweep = argv[optind];
    char err[1024];
    sr_problems problems;
    sr_problems_init(&problems);
    if (run) {
        sr_eval_stats st;
        if (sr_eval(sweep, &eo, &st, &problems, err, sizeof err) != 0) {
            cli_error(cmd, "%s", err);
            sr_problems_free(&problems);
            return SR_EXIT_FATAL;
        }
        if (!eo.quiet)
            printf("measured on %s: weights of %zu checkpoints, samples of %zu, %zu metrics.json written\n",
                   st.device, st.weights_measured, st.images_measured, st.metrics_written);
        /* render scans again and lists the sweep's problems itself */
        sr_problems_free(&problems);
        sr_problems_init(&problems);
    }
    sr_render_result res;
    int rc = sr_render(sweep, &ro, &res, &problems, err, sizeof err);
    for (size_t i = 0; i < problems.n; i++)
        fprintf(stderr, "sweepreport: %s: %s\n", problems.items[i].path, problems.items[i].problem);
    sr_problems_free(&problems);
    if (rc == -2)
        return cli_usage_error(cmd, "%s", err);
    if (rc != 0) {
        cli_error(cmd, "%s", err);
        return SR_EXIT_FATAL;
    }
    if (!ro.quiet) {
        printf("report: %s/index.html (%zu charts; summary.json beside it)\n", res.out_dir, res.charts);
        if (ro.archive)
            printf("archive: %zu trial PDFs (SWEEP/<trial>/<trial>_report.pdf)\n", res.archives);
        if (res.has_best)
            printf("recommended: %s\n", res.best);
        else
            printf("recommended: nothing (no checkpoint has a score yet)\n");
    }
    return SR_EXIT_OK;
}

int cmd_render(int argc, char **argv)
{
    return render_or_run(argc, argv, 0);
}

int cmd_run(int argc, char **argv)
{
    return render_or_run(argc, argv, 1);
}
