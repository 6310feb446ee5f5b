/* cmd_demo.c - sweepreport demo: the whole job on a built-in synthetic sweep. */
#include "config.h"

#include "cli.h"
#include "job.h"
#include "synth.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void demo_help(void)
{
    printf("Usage: sweepreport demo [-o DIR]\n"
           "\n"
           "Writes a synthetic sweep into DIR (default ./sweepreport-demo) unless it is\n"
           "already there, then runs the whole job on it with the summary profile (as\n"
           "'sweepreport run'): every checkpoint measured, the report written to\n"
           "DIR/sweepreport/ (index.html, report.pdf, summary.json, charts).  A quick\n"
           "way to see what sweepreport does.  DIR may also be given without -o.\n"
           "\n"
           "  -o, --output DIR   where the demo sweep is (default ./sweepreport-demo)\n"
           "  -q, --quiet        print only errors and the sweep's problems\n"
           "  -h, --help         show this help\n");
}

/* 1 when the folder holds a trial_* entry (a sweep to report on), 0 when
 * not, -1 when it cannot be listed. */
static int holds_trials(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = sr_str_has_prefix(e->d_name, "trial_");
    closedir(d);
    return found;
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int verbosity = SR_NORMAL;
    int c;
    static const char shortopts[] = "o:qh";
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'q':
            verbosity = SR_QUIET;
            break;
        case 'h':
            demo_help();
            return SR_EXIT_OK;
        default:
            return cli_bad_option("demo", shortopts, opts, argv);
        }
    }
    if (argc - optind > 1 || (dir && argc - optind == 1))
        return cli_usage_error("demo", "too many arguments");
    if (!dir)
        dir = argc - optind == 1 ? argv[optind] : "sweepreport-demo";

    sr_progress pr;
    sr_progress_init(&pr, stdout, -1, verbosity);
    char err[SR_MSG_MAX];
    struct stat st;
    int there = stat(dir, &st) == 0;
    if (there && !S_ISDIR(st.st_mode)) {
        cli_error("demo", "%s: not a folder", dir);
        return SR_EXIT_FATAL;
    }
    int sweep = there ? holds_trials(dir) : 0;
    if (sweep < 0) {
        cli_error("demo", "%s: cannot list: %s", dir, strerror(errno));
        return SR_EXIT_FATAL;
    }
    if (sweep) {
        sr_progress_say(&pr, "using the demo sweep already in %s", dir);
    } else {
        /* a new or empty folder gets the synthetic sweep (synth refuses
         * a folder with something else in it) */
        sr_synth_opts o;
        sr_synth_defaults(&o);
        sr_progress_say(&pr, "writing a synthetic sweep of %d trials to %s", o.trials, dir);
        if (sr_synth(dir, &o, err, sizeof err) != 0) {
            cli_error("demo", "%s", err);
            return SR_EXIT_FATAL;
        }
    }
    sr_job_opts jo;
    memset(&jo, 0, sizeof jo);
    jo.command = "demo";
    jo.measure = 1;
    jo.render = 1;
    sr_eval_defaults(&jo.eval);
    sr_render_defaults(&jo.render_opts);
    jo.render_opts.scan.settle = SR_SETTLE_DEFAULT;
    sr_profile prof;
    if (sr_profile_load_default(&prof, err, sizeof err) != 0)
        sr_profile_builtin(&prof);
    sr_job_use_profile(&jo, &prof);

    sr_job_result res;
    sr_problems problems;
    sr_problems_init(&problems);
    int rc = sr_job_once(dir, &jo, &pr, NULL, &res, &problems, err, sizeof err);
    sr_job_print_problems(&pr, &problems);
    sr_problems_free(&problems);
    if (rc != SR_JOB_OK) {
        cli_error("demo", "%s", err);
    } else if (verbosity >= SR_NORMAL) {
        if (res.render.pending)
            printf("the running trial's newest checkpoint is still being written: it is pending, as it would be in "
                   "a live sweep\n");
        char last[8192];
        sr_job_last_line(&res, last, sizeof last);
        printf("%s\n", last);
    }
    sr_profile_free(&prof);
    return rc;
}
