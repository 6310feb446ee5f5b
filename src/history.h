/* history.h - OUT/history: the last summaries of a report folder.
 *
 * A report is published by swapping a new folder in for the old one, so the
 * history is carried from the old folder into the new one before the swap.
 * Files are hard-linked (copied where a link is refused); the old report
 * stays whole until the swap. */
#ifndef SR_HISTORY_H
#define SR_HISTORY_H

#include <stddef.h>
#include <time.h>

/* 1 when name is one of the summaries the history keeps:
 * summary-YYYYmmddTHHMMSSZ.json, or summary-YYYYmmddTHHMMSSZ-N.json for a
 * second one in the same second. */
int sr_history_is_summary(const char *name);

/* Orders history summaries oldest first (by time, then N). */
int sr_history_cmp(const char *a, const char *b);

/* Carries old_out/history (when there) into new_out/history.  Every entry
 * that is not a history summary is carried as it is, whatever keep says.
 * keep > 0: summary_text is added as history/summary-<now, UTC>.json and the
 * newest keep - 1 older summaries are carried, so keep summaries remain (the
 * rest are left behind with the old report).  keep == 0: every summary is
 * carried and none is added.  Returns 0, or -1 with a one-line reason;
 * added (may be NULL) gets the new file's name. */
int sr_history_carry(const char *old_out, const char *new_out, int keep, const char *summary_text, time_t now,
                     char *added, size_t added_len, char *err, size_t errlen);

#endif
