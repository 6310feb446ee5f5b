/* cmd_pending.c - commands whose stages are not in this version yet.
 *
 * They are part of the command line already, so that --help documents the
 * whole tool and scripts get a clear message instead of "unknown command". */
#include "config.h"

#include "cli.h"

#include <stdio.h>
#include <string.h>

static int not_yet(int argc, char **argv, const char *usage, const char *what)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: sweepreport %s\n\n%s\n\nNot available in sweepreport %s yet.\n", usage, what,
                   PACKAGE_VERSION);
            return SR_EXIT_OK;
        }
    }
    cli_error(argv[0], "not available in sweepreport %s yet; 'sweepreport scan' lists what a sweep holds",
              PACKAGE_VERSION);
    return SR_EXIT_FATAL;
}

int cmd_render(int argc, char **argv)
{
    return not_yet(argc, argv, "render [-o OUT] SWEEP", "Writes the HTML site, the PDF and summary.json.");
}

int cmd_run(int argc, char **argv)
{
    return not_yet(argc, argv, "run [OPTIONS] SWEEP", "Scans, evaluates and renders in one go.");
}
