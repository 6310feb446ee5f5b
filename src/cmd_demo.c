/* cmd_demo.c - sweepreport demo: the whole job on a built-in synthetic sweep. */
#include "config.h"

#include "cli.h"
#include "eval.h"
#include "render.h"
#include "synth.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void demo_help(void)
{
    printf("Usage: sweepreport demo [DIR]\n"
           "\n"
           "Writes a synthetic sweep into DIR (default ./sweepreport-demo) unless it is\n"
           "already there, then runs the whole job on it (as 'sweepreport run'): every\n"
           "checkpoint measured, the report written to DIR/sweepreport/ (index.html,\n"
           "report.pdf, summary.json, charts).  A quick way to see what sweepreport does.\n"
           "\n"
           "  -h, --help   show this help\n");
}

int cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'h') {
            demo_help();
            return SR_EXIT_OK;
        }
        return cli_usage_error("demo", "unknown option '%s'", argv[optind - 1]);
    }
    if (argc - optind > 1)
        return cli_usage_error("demo", "too many arguments");
    const char *dir = argc - optind == 1 ? argv[optind] : "sweepreport-demo";

    char err[512];
    struct stat st;
    if (stat(dir, &st) == 0) {
        printf("using the demo sweep already in %s\n", dir);
    } else {
        sr_synth_opts o;
        sr_synth_defaults(&o);
        printf("writing a synthetic sweep of %d trials to %s\n", o.trials, dir);
        if (sr_synth(dir, &o, err, sizeof err) != 0) {
            cli_error("demo", "%s", err);
            return SR_EXIT_FATAL;
        }
    }
    sr_eval_opts eo;
    sr_eval_defaults(&eo);
    sr_eval_stats es;
    sr_problems problems;
    sr_problems_init(&problems);
    if (sr_eval(dir, &eo, &es, &problems, err, sizeof err) != 0) {
        cli_error("demo", "%s", err);
        sr_problems_free(&problems);
        return SR_EXIT_FATAL;
    }
    printf("measured on %s: weights of %zu checkpoints, samples of %zu, %zu metrics.json written\n", es.device,
           es.weights_measured, es.images_measured, es.metrics_written);
    sr_problems_free(&problems); /* the scan below lists them */
    sr_render_opts ro;
    memset(&ro, 0, sizeof ro);
    sr_render_result res;
    sr_problems_init(&problems);
    if (sr_render(dir, &ro, &res, &problems, err, sizeof err) != 0) {
        cli_error("demo", "%s", err);
        sr_problems_free(&problems);
        return SR_EXIT_FATAL;
    }
    /* the synthetic sweep has a half-written checkpoint on purpose */
    for (size_t i = 0; i < problems.n; i++)
        printf("problem (expected in the demo): %s: %s\n", problems.items[i].path, problems.items[i].problem);
    sr_problems_free(&problems);
    printf("report: %s/index.html (%zu charts; report.pdf and summary.json beside it)\n", res.out_dir, res.charts);
    printf("recommended: %s\n", res.has_best ? res.best : "nothing (no checkpoint has a score yet)");
    return SR_EXIT_OK;
}
