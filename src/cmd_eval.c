/* cmd_eval.c - sweepreport eval: measure every checkpoint that lacks metrics. */
#include "config.h"

#include "cli.h"
#include "device.h"
#include "eval.h"
#include "lock.h"
#include "sampler.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "K/N" with 0 <= K < N, both plain decimal numbers.  0 or -1. */
static int parse_shard(const char *s, unsigned *k, unsigned *n)
{
    const char *slash = strchr(s, '/');
    if (!slash || slash == s || slash - s > 15)
        return -1;
    char left[16];
    memcpy(left, s, (size_t)(slash - s));
    left[slash - s] = '\0';
    int a, b;
    if (left[0] < '0' || left[0] > '9' || slash[1] < '0' || slash[1] > '9' ||
        cli_parse_int(left, 0, 1000000, &a) != 0 || cli_parse_int(slash + 1, 1, 1000000, &b) != 0 || a >= b)
        return -1;
    *k = (unsigned)a;
    *n = (unsigned)b;
    return 0;
}

static void eval_help(void)
{
    printf("Usage: sweepreport eval [OPTIONS] SWEEP\n"
           "\n"
           "Measures, for every valid checkpoint of SWEEP, whatever is not measured yet:\n"
           "the weight metrics of the file itself (delta norm, effective rank, drift from\n"
           "the previous checkpoint, non-finite values, per-block norms) and the image\n"
           "metrics of its samples (brightness, contrast, saturation, sharpness,\n"
           "colorfulness, entropy, sample diversity, pixar_score).  Samples without a\n"
           "metrics.json get one in the seed evaluator's layout; everything else is kept\n"
           "in SWEEP/.sweepreport/.  Files other tools wrote are never modified.\n"
           "\n"
           "  --device DEV          auto (a CUDA device when there is one, else the CPU),\n"
           "                        cpu, cuda, cuda:N, a list cuda:N,M,... or cuda:all\n"
           "                        (default auto); with several GPUs each takes whole\n"
           "                        trials and the CPU threads are shared among them\n"
           "  --jobs N              CPU threads (default: all cores)\n"
           "  --force               measure again what is already measured\n"
           "  --shard K/N           measure only shard K of N (0 <= K < N): the checkpoints\n"
           "                        whose relative path hashes to K; N processes (a job\n"
           "                        array, at the same time or not) then measure every\n"
           "                        checkpoint exactly once, and 'render' reports on all;\n"
           "                        shards share the sweep's lock (each writes only its\n"
           "                        own checkpoints' files) and wait, like eval, for a\n"
           "                        run or render that holds it\n"
           "  --sampler 'CMD ...'   render samples for checkpoints that have none: the\n"
           "                        words {checkpoint}, {outdir} and {n} are replaced (no\n"
           "                        shell is involved); CMD must contain {checkpoint} and\n"
           "                        {outdir}: it writes sample_*.png files into {outdir},\n"
           "                        and they are moved to realtime_evaluations/<stem>/\n"
           "  --sampler-timeout S   kill a sampler run after S seconds (default 600)\n"
           "  --samples N           {n}: samples to render per checkpoint (default 8)\n"
           "  --study PATH          the Optuna storage (default: SWEEP/optuna_study.db, else\n"
           "                        SWEEP/results/all_trials.json)\n"
           "  --study-name NAME     the study, when the storage holds several\n"
           "  --settle SECONDS      checkpoints modified less than SECONDS ago, or with\n"
           "                        samples that recent, are pending: left for the next\n"
           "                        run (default 30)\n"
           "  --wait SECONDS        wait up to SECONDS for another run of this sweep to\n"
           "                        finish (default 0: exit 3 at once)\n"
           "  -v, --verbose         a line per measured checkpoint\n"
           "  -q, --quiet           print only errors and the sweep's problems\n"
           "  -h, --help            show this help\n"
           "\n"
           "Exit status: 0 ok (problems inside the sweep are listed on stderr), 1 the\n"
           "sweep or the device cannot be used, 2 usage error, 3 the sweep is locked by\n"
           "another run (the message names it).\n");
}

int cli_sampler_check(const char *cmd, const char *tmpl)
{
    /* a template that cannot work is a usage error, found before any work */
    sr_sampler probe;
    char why[SR_MSG_MAX];
    if (sr_sampler_parse(tmpl, &probe, why, sizeof why) != 0)
        return cli_usage_error(cmd, "--sampler: %s", why);
    sr_sampler_free(&probe);
    return SR_EXIT_OK;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'},   {"jobs", required_argument, NULL, 'j'},
        {"force", no_argument, NULL, 'f'},          {"sampler", required_argument, NULL, 'S'},
        {"shard", required_argument, NULL, 'K'},
        {"sampler-timeout", required_argument, NULL, 'T'}, {"samples", required_argument, NULL, 'n'},
        {"study", required_argument, NULL, 's'},    {"study-name", required_argument, NULL, 'N'},
        {"verbose", no_argument, NULL, 'v'},        {"quiet", no_argument, NULL, 'q'},
        {"settle", required_argument, NULL, 'E'},   {"wait", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    sr_eval_opts o;
    sr_eval_defaults(&o);
    o.scan.settle = SR_SETTLE_DEFAULT;
    double wait = 0;
    int c;
    static const char shortopts[] = "j:vqh";
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (c) {
        case 'd': {
            sr_device_request req;
            char why[SR_MSG_MAX];
            if (sr_device_parse(optarg, &req, why, sizeof why) != 0)
                return cli_usage_error("eval", "--device: %s", why);
            o.device = optarg;
            break;
        }
        case 'K':
            if (parse_shard(optarg, &o.shard_index, &o.shard_count) != 0)
                return cli_usage_error("eval", "--shard needs K/N, two numbers with 0 <= K < N (e.g. 0/8), not '%s'",
                                       optarg);
            break;
        case 'j':
            if (cli_parse_int(optarg, 1, SR_MAX_JOBS, &o.jobs) != 0)
                return cli_usage_error("eval", "--jobs needs a number from 1 to %d, not '%s'", SR_MAX_JOBS, optarg);
            break;
        case 'f':
            o.force = 1;
            break;
        case 'S':
            o.sampler = optarg;
            break;
        case 'T': {
            char *end;
            errno = 0;
            o.sampler_timeout = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.sampler_timeout > 0) || !isfinite(o.sampler_timeout))
                return cli_usage_error("eval", "--sampler-timeout needs a number of seconds, not '%s'", optarg);
            break;
        }
        case 'n':
            if (cli_parse_int(optarg, 1, 1000, &o.sampler_samples) != 0)
                return cli_usage_error("eval", "--samples needs a number from 1 to 1000, not '%s'", optarg);
            break;
        case 's':
            o.scan.study_path = optarg;
            break;
        case 'N':
            o.scan.study_name = optarg;
            break;
        case 'v':
            o.verbose = 1;
            break;
        case 'E':
            if (cli_parse_seconds(optarg, 1e9, &o.scan.settle) != 0)
                return cli_usage_error("eval", "--settle needs a number of seconds, not '%s'", optarg);
            break;
        case 'W':
            if (cli_parse_seconds(optarg, 1e9, &wait) != 0)
                return cli_usage_error("eval", "--wait needs a number of seconds, not '%s'", optarg);
            break;
        case 'q':
            o.quiet = 1;
            break;
        case 'h':
            eval_help();
            return SR_EXIT_OK;
        default:
            return cli_bad_option("eval", shortopts, opts, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("eval", argc - optind == 0 ? "missing the SWEEP folder" : "too many arguments");

    if (o.sampler && cli_sampler_check("eval", o.sampler) != SR_EXIT_OK)
        return SR_EXIT_USAGE;
    sr_eval_stats st;
    sr_problems problems;
    sr_problems_init(&problems);
    char err[SR_MSG_MAX];
    /* eval writes the sweep's store: one run at a time.  Shards are made to
     * run at once (each writes only its own checkpoints' files, atomically):
     * they share the lock, and keep run, render and whole evals out. */
    sr_lock lock = {.fd = -1, .shared = 0, .path = NULL};
    sr_lock_holder holder;
    int lr = o.shard_count > 1
                 ? sr_lock_acquire_shared(&lock, argv[optind], "eval --shard", wait, &holder, err, sizeof err)
                 : sr_lock_acquire(&lock, argv[optind], "eval", wait, &holder, err, sizeof err);
    if (lr != SR_LOCK_HELD) {
        if (lr != SR_LOCK_BUSY)
            cli_error("eval", "%s", err);
        else if (wait > 0)
            cli_error("eval", "%s; still held after waiting %g s", err, wait);
        else
            cli_error("eval", "%s; --wait SECONDS waits for it", err);
        return lr == SR_LOCK_BUSY ? SR_EXIT_LOCKED : SR_EXIT_FATAL;
    }
    int erc = sr_eval(argv[optind], &o, &st, &problems, err, sizeof err);
    sr_lock_release(&lock);
    if (erc != 0) {
        cli_error("eval", "%s", err);
        sr_problems_free(&problems);
        return SR_EXIT_FATAL;
    }
    sr_problems_print(stderr, &problems);
    if (!o.quiet) {
        if (o.shard_count > 1)
            printf("eval: shard %u/%u: ", o.shard_index, o.shard_count);
        else
            printf("eval: ");
        printf("%zu checkpoint%s on %s: weights measured for %zu, samples measured for %zu, %zu metrics.json "
               "written",
               st.checkpoints, st.checkpoints == 1 ? "" : "s", st.device, st.weights_measured, st.images_measured,
               st.metrics_written);
        if (o.sampler)
            printf(", samples rendered for %zu", st.sampled);
        if (st.pending)
            printf(", %zu pending (still being written)", st.pending);
        if (st.failed)
            printf(", %zu failed (see above)", st.failed);
        printf("\n");
    }
    sr_problems_free(&problems);
    return SR_EXIT_OK;
}
