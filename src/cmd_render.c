/* cmd_render.c - sweepreport render and run. */
#include "config.h"

#include "cli.h"
#include "device.h"
#include "job.h"
#include "metrics_read.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void render_help(const char *cmd)
{
    int run = strcmp(cmd, "run") == 0;
    printf("Usage: sweepreport %s [OPTIONS] SWEEP\n\n", cmd);
    if (run)
        printf("The whole job: measures every checkpoint that lacks metrics (as 'sweepreport\n"
               "eval'), then writes the report (as 'sweepreport render').  Made for cron:\n"
               "a rerun with nothing new measures nothing and leaves the report alone.\n\n");
    else
        printf("Scores every checkpoint, picks the best one and writes the report into OUT:\n"
               "index.html and trials/*.html (a static site that opens from disk),\n"
               "summary.json (the scan document plus scores, the recommendation, runners-up\n"
               "and hyperparameter importance), the charts (charts/*.svg, *.png) and\n"
               "report.pdf, as the profile says.  The report is written beside OUT and\n"
               "swapped in at the end, so a reader never sees half of it; when nothing it\n"
               "is made from changed, it is left as it is.\n\n");
    printf("  -o, --output OUT       the report folder (default SWEEP/sweepreport)\n"
           "  --profile P            what to write: nightly, summary (the default), archive,\n"
           "                         or a profile FILE of 'key = value' lines (the format:\n"
           "                         PREFIX/share/doc/sweepreport/profiles.md, or\n"
           "                         doc/profiles.md in the source)\n"
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
           "  --study PATH           the Optuna storage (default: SWEEP/optuna_study.db,\n"
           "                         else SWEEP/results/all_trials.json)\n"
           "  --study-name NAME      the study, when the storage holds several\n"
           "  --settle SECONDS       checkpoints modified less than SECONDS ago, or with\n"
           "                         samples that recent, are pending: left for the next\n"
           "                         run (default 30)\n"
           "  --wait SECONDS         wait up to SECONDS for another run of this sweep to\n"
           "                         finish (default 0: exit 3 at once)\n");
    if (run)
        printf("  --force                measure everything again and render even when nothing\n"
               "                         changed\n"
               "  --watch SECONDS        run again every SECONDS until SIGINT or SIGTERM (the\n"
               "                         step under way finishes first); one line per run\n"
               "                         that measured or rendered something\n"
               "  --device DEV           auto, cpu, cuda, cuda:N, a list cuda:N,M,... or\n"
               "                         cuda:all (default auto)\n"
               "  --jobs N               CPU threads (default: all cores)\n"
               "  --sampler 'CMD ...'    render samples for checkpoints that have none, as for\n"
               "                         eval: CMD must contain {checkpoint} and {outdir}\n"
               "  --sampler-timeout S    kill a sampler run after S seconds (default 600)\n");
    else
        printf("  --force                render even when nothing changed\n");
    printf("  -q, --quiet            print only errors and the sweep's problems\n"
           "  -v, --verbose          a line per checkpoint and per page\n"
           "  -h, --help             show this help\n"
           "\n"
           "On a terminal each stage redraws one progress line; otherwise (cron) each\n"
           "stage prints one plain line.  The last line says where the report is and\n"
           "what is recommended.\n"
           "\n"
           "Exit status: 0 ok, 1 fatal error, 2 usage error (e.g. an unknown metric or a\n"
           "bad profile), 3 the sweep is locked by another run (the message names it).\n");
}

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* --profile (or the installed summary profile, else the built-in one) into the job. */
static int apply_profile(const char *cmd, const char *spec, sr_profile *p, sr_job_opts *jo)
{
    char err[SR_MSG_MAX];
    if (spec) {
        if (sr_profile_load(spec, p, err, sizeof err) != 0)
            return cli_usage_error(cmd, "--profile: %s", err);
    } else if (sr_profile_load_default(p, err, sizeof err) != 0) {
        /* an installed summary profile that is broken */
        return cli_usage_error(cmd, "the default profile: %s", err);
    }
    sr_job_use_profile(jo, p);
    return SR_EXIT_OK;
}

static int render_or_run(int argc, char **argv, int run)
{
    const char *cmd = run ? "run" : "render";
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},         {"score", required_argument, NULL, 'S'},
        {"minimize", no_argument, NULL, 'm'},             {"maximize", no_argument, NULL, 'M'},
        {"prefer-earlier", required_argument, NULL, 'p'}, {"study", required_argument, NULL, 's'},
        {"study-name", required_argument, NULL, 'N'},     {"device", required_argument, NULL, 'd'},
        {"jobs", required_argument, NULL, 'j'},           {"sampler", required_argument, NULL, 'X'},
        {"sampler-timeout", required_argument, NULL, 'T'}, {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},              {"templates", required_argument, NULL, 't'},
        {"self-contained", no_argument, NULL, 'c'},       {"profile", required_argument, NULL, 'P'},
        {"settle", required_argument, NULL, 'E'},         {"wait", required_argument, NULL, 'W'},
        {"watch", required_argument, NULL, 'A'},          {"force", no_argument, NULL, 'f'},
        {"archive", no_argument, NULL, 'R'},            {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sr_job_opts jo;
    memset(&jo, 0, sizeof jo);
    jo.command = cmd;
    jo.measure = run;
    jo.render = 1;
    sr_eval_defaults(&jo.eval);
    sr_render_opts *ro = &jo.render_opts;
    sr_render_defaults(ro);
    ro->scan.settle = SR_SETTLE_DEFAULT;
    const char *profile = NULL;
    double watch = 0;
    int verbosity = SR_NORMAL;
    int archive_flag = 0;
    int direction = 0; /* 'm' or 'M' once given */
    int c;
    static const char shortopts[] = "o:qvh";
    int li = 0;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, &li)) != -1) {
        char *end;
        if (!run && (c == 'd' || c == 'j' || c == 'X' || c == 'T' || c == 'A'))
            return cli_usage_error(cmd, "option '--%s' belongs to 'sweepreport run'", opts[li].name);
        switch (c) {
        case 'o':
            ro->out_dir = optarg;
            break;
        case 't':
            ro->templates_dir = optarg;
            break;
        case 'c':
            ro->self_contained = 1;
            break;
        case 'R':
            archive_flag = 1;
            break;
        case 'S':
            ro->analysis.expression = optarg;
            break;
        case 'm':
        case 'M':
            if (direction && direction != c)
                return cli_usage_error(cmd, "--minimize and --maximize contradict each other");
            direction = c;
            ro->analysis.maximize = c == 'M';
            break;
        case 'p':
            errno = 0;
            ro->analysis.prefer_earlier = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(ro->analysis.prefer_earlier >= 0) ||
                !isfinite(ro->analysis.prefer_earlier))
                return cli_usage_error(cmd, "--prefer-earlier needs a percentage, not '%s'", optarg);
            break;
        case 's':
            ro->scan.study_path = optarg;
            break;
        case 'N':
            ro->scan.study_name = optarg;
            break;
        case 'P':
            profile = optarg;
            break;
        case 'E':
            if (cli_parse_seconds(optarg, 1e9, &ro->scan.settle) != 0)
                return cli_usage_error(cmd, "--settle needs a number of seconds, not '%s'", optarg);
            break;
        case 'W':
            if (cli_parse_seconds(optarg, 1e9, &jo.wait) != 0)
                return cli_usage_error(cmd, "--wait needs a number of seconds, not '%s'", optarg);
            break;
        case 'A':
            if (cli_parse_seconds(optarg, 1e9, &watch) != 0 || !(watch > 0))
                return cli_usage_error(cmd, "--watch needs a number of seconds above 0, not '%s'", optarg);
            break;
        case 'f':
            ro->force = 1;
            jo.eval.force = 1;
            break;
        case 'd': {
            sr_device_request req;
            char why[SR_MSG_MAX];
            if (sr_device_parse(optarg, &req, why, sizeof why) != 0)
                return cli_usage_error(cmd, "--device: %s", why);
            jo.eval.device = optarg;
            break;
        }
        case 'j':
            if (cli_parse_int(optarg, 1, SR_MAX_JOBS, &jo.eval.jobs) != 0)
                return cli_usage_error(cmd, "--jobs needs a number from 1 to %d, not '%s'", SR_MAX_JOBS, optarg);
            break;
        case 'X':
            if (cli_sampler_check(cmd, optarg) != SR_EXIT_OK)
                return SR_EXIT_USAGE;
            jo.eval.sampler = optarg;
            break;
        case 'T':
            errno = 0;
            jo.eval.sampler_timeout = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(jo.eval.sampler_timeout > 0) || !isfinite(jo.eval.sampler_timeout))
                return cli_usage_error(cmd, "--sampler-timeout needs a number of seconds, not '%s'", optarg);
            break;
        case 'q':
            verbosity = SR_QUIET;
            break;
        case 'v':
            verbosity = SR_VERBOSE;
            break;
        case 'h':
            render_help(cmd);
            return SR_EXIT_OK;
        default:
            return cli_bad_option(cmd, shortopts, opts, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error(cmd, argc - optind == 0 ? "missing the SWEEP folder" : "too many arguments");
    const char *sweep = argv[optind];
    ro->quiet = verbosity == SR_QUIET;
    sr_profile prof;
    memset(&prof, 0, sizeof prof);
    int rc = apply_profile(cmd, profile, &prof, &jo);
    if (rc != SR_EXIT_OK)
        return rc;
    if (archive_flag)
        ro->archive = 1; /* on top of any profile */

    /* a score may name what measuring gives before it has given it */
    sr_metrics known;
    memset(&known, 0, sizeof known);
    sr_eval_metric_names(&known);
    sr_seed_metric_names(&known);
    ro->analysis.known = &known;

    sr_progress pr;
    sr_progress_init(&pr, stdout, -1, verbosity);
    if (watch > 0) {
        catch_stop_signals();
        rc = sr_job_watch(sweep, &jo, watch, &pr, &stop_requested);
        sr_profile_free(&prof);
        sr_metrics_free(&known);
        return rc;
    }
    sr_job_result res;
    sr_problems problems;
    sr_problems_init(&problems);
    char err[SR_MSG_MAX];
    rc = sr_job_once(sweep, &jo, &pr, NULL, &res, &problems, err, sizeof err);
    sr_job_print_problems(&pr, &problems);
    sr_problems_free(&problems);
    if (rc == SR_JOB_LOCKED) {
        if (jo.wait > 0)
            cli_error(cmd, "%s; still held after waiting %g s", err, jo.wait);
        else
            cli_error(cmd, "%s; --wait SECONDS waits for it", err);
    } else if (rc == SR_JOB_USAGE) {
        cli_usage_error(cmd, "%s", err);
    } else if (rc != SR_JOB_OK) {
        cli_error(cmd, "%s", err);
    } else if (verbosity >= SR_NORMAL) {
        if (ro->archive && res.rendered && !res.render.unchanged) {
            if (res.render.archives == res.render.archives_wanted)
                printf("archive: %zu trial PDFs (SWEEP/<trial>/<trial>_report.pdf)\n", res.render.archives);
            else
                printf("archive: %zu of %zu trial PDFs written (SWEEP/<trial>/<trial>_report.pdf; the problems say "
                       "why not the others)\n",
                       res.render.archives, res.render.archives_wanted);
        }
        char last[8192];
        sr_job_last_line(&res, last, sizeof last);
        printf("%s\n", last);
    }
    sr_profile_free(&prof);
    sr_metrics_free(&known);
    return rc;
}

int cmd_render(int argc, char **argv)
{
    return render_or_run(argc, argv, 0);
}

int cmd_run(int argc, char **argv)
{
    return render_or_run(argc, argv, 1);
}
