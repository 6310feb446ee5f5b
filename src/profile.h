/* profile.h - report profiles: what a run writes.
 *
 * A profile is a text file of "key = value" lines ('#' starts a comment
 * line, blank lines are ignored).  The keys (each at most once):
 *
 *   description = TEXT      what the profile is for
 *   html = yes|no           the HTML site and its charts (index.html, trials/, charts/)
 *   pdf = yes|no            report.pdf
 *   archive = yes|no        a PDF per trial, for archiving
 *   since_last_run = yes|no what changed since the previous summary.json
 *   history = N             keep the last N summaries in OUT/history (0..10000, 0: none)
 *
 * A key not given is "no" (history 0).  nightly, summary and archive are
 * installed in $(pkgdatadir)/reports. */
#ifndef SR_PROFILE_H
#define SR_PROFILE_H

#include <stddef.h>

typedef struct {
    char *name;          /* "nightly", or the path of a custom file */
    char *path;          /* the file read; NULL for the built-in default */
    char *description;
    int html;
    int pdf;
    int archive;
    int since_last_run;
    int history;
} sr_profile;

/* The summary profile, built in (the default when no profile file is found). */
void sr_profile_builtin(sr_profile *p);

/* The installed profiles: $SR_REPORTS when set, else SR_DATADIR/reports, else
 * the source tree's reports/.  The caller frees. */
char *sr_profile_dir(void);

/* Parses a profile's text; file names it in errors ("FILE:LINE: reason").
 * Returns 0, or -1 with p left empty. */
int sr_profile_parse(const char *text, const char *file, sr_profile *p, char *err, size_t errlen);

/* A name (NAME.profile in sr_profile_dir()) or, when spec holds a '/' or no
 * such profile is installed, a file.  An unknown name lists the installed
 * ones.  Returns 0, or -1 with a one-line reason. */
int sr_profile_load(const char *spec, sr_profile *p, char *err, size_t errlen);

/* The profile used without --profile: summary.profile of the profiles'
 * folder, else the built-in summary (never a file of the current folder).
 * 0, or -1 with "FILE:LINE: reason" when that file has an error. */
int sr_profile_load_default(sr_profile *p, char *err, size_t errlen);

/* "html=yes pdf=no ...": the settings, for fingerprints and logs (the caller frees). */
char *sr_profile_settings(const sr_profile *p);

void sr_profile_free(sr_profile *p);

#endif
