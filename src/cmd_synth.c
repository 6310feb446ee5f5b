/* cmd_synth.c - sweepreport synth: write a synthetic sweep. */
#include "config.h"

#include "cli.h"
#include "synth.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void synth_help(void)
{
    sr_synth_opts d;
    sr_synth_defaults(&d);
    printf("Usage: sweepreport synth [OPTIONS] DIR\n"
           "\n"
           "Writes a realistic synthetic sweep into DIR (which must not exist or be\n"
           "empty): kohya LoRA checkpoints with SD1.5 module names and ss_* metadata,\n"
           "params.json, training logs, drawn sample images, evaluator metrics for some\n"
           "checkpoints, a failed trial and a running trial whose newest checkpoint is\n"
           "half written.  The same options always give the same files.\n"
           "\n"
           "  --trials N       number of trials (default %d)\n"
           "  --epochs E       epochs per trial (default %d)\n"
           "  --save-every K   save a checkpoint every K epochs (default %d)\n"
           "  --samples S      sample images per evaluated checkpoint (default %d)\n"
           "  --size PX        sample width and height in pixels (default %d)\n"
           "  --rank R         LoRA rank, network_dim (default %d)\n"
           "  --seed X         random seed (default %llu)\n"
           "  -h, --help       show this help\n",
           d.trials, d.epochs, d.save_every, d.samples, d.size, d.rank, d.seed);
}

int cmd_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        {"trials", required_argument, NULL, 't'},
        {"epochs", required_argument, NULL, 'e'},
        {"save-every", required_argument, NULL, 'k'},
        {"samples", required_argument, NULL, 's'},
        {"size", required_argument, NULL, 'p'},
        {"rank", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    sr_synth_opts o;
    sr_synth_defaults(&o);
    int c;
    static const char shortopts[] = "h";
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        int *target = NULL, min = 1, max = 0;
        switch (c) {
        case 't': target = &o.trials; max = 10000; break;
        case 'e': target = &o.epochs; max = 100000; break;
        case 'k': target = &o.save_every; max = 100000; break;
        case 's': target = &o.samples; min = 0; max = 100; break;
        case 'p': target = &o.size; min = 16; max = 4096; break;
        case 'r': target = &o.rank; max = 1024; break;
        case 'x': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            /* strtoull takes "-1" as 2^64-1: digits only */
            if (errno || end == optarg || *end || !isdigit((unsigned char)optarg[0]))
                return cli_usage_error("synth", "--seed needs a non-negative integer, not '%s'", optarg);
            o.seed = v;
            continue;
        }
        case 'h':
            synth_help();
            return SR_EXIT_OK;
        default:
            return cli_bad_option("synth", shortopts, opts, argv);
        }
        if (cli_parse_int(optarg, min, max, target) != 0)
            return cli_usage_error("synth", "--%s needs an integer from %d to %d, not '%s'",
                                   opts[c == 't' ? 0 : c == 'e' ? 1 : c == 'k' ? 2 : c == 's' ? 3 : c == 'p' ? 4 : 5].name,
                                   min, max, optarg);
    }
    if (argc - optind != 1)
        return cli_usage_error("synth", argc - optind == 0 ? "missing the DIR to write" : "too many arguments");
    char err[SR_MSG_MAX];
    if (sr_synth(argv[optind], &o, err, sizeof err) != 0) {
        cli_error("synth", "%s", err);
        return SR_EXIT_FATAL;
    }
    printf("wrote a synthetic sweep of %d trials to %s\n", o.trials, argv[optind]);
    return SR_EXIT_OK;
}
