/* since_last_run.h - what changed between two summary documents. */
#ifndef SR_SINCE_LAST_RUN_H
#define SR_SINCE_LAST_RUN_H

#include <cjson/cJSON.h>

/* Compares the summary.json a run replaces (prev, NULL when there is none)
 * with the new summary document (cur):
 *
 *   {"first_run": bool, "previous_generated_at": string|null,
 *    "new_trials": ["trial_0007", ...],
 *    "new_checkpoints": [{"trial", "checkpoint", "path", "epoch", "status"}, ...],
 *    "best_changed": bool, "previous_best": {"trial", "checkpoint", "path", "epoch", "score"}|null,
 *    "best": the same|null,
 *    "score_changed": bool, "previous_score": {"expression", "direction"}|null,
 *    "new_problems": [{"path", "problem"}, ...],
 *    "removed_checkpoints": [{"trial", "checkpoint"}, ...], "previous_best_removed": bool}
 *
 * A trial is new when prev has no trial of its name.  A checkpoint (trial
 * name + file name) is new when it is not pending now and prev did not have
 * it or had it pending, so that each checkpoint is new exactly once: when it
 * settles.  The best changed when the recommended trial or checkpoint is not
 * the one prev recommended (a changed score alone is no change).  The
 * score changed when its expression or direction did: scores then do not
 * compare with the last report's.  A problem is new when prev did not list
 * it (path and text).  A checkpoint is removed when prev had it (not
 * pending) and the sweep has it no more; previous_best_removed says the
 * last recommendation is one of them.  With no prev, first_run is true and
 * nothing is new. */
cJSON *sr_since_last_run(const cJSON *prev, const cJSON *cur);

#endif
