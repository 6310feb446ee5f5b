/* tfevents.h - scalars from TensorBoard event files (events.out.tfevents.*).
 *
 * An event file is a TFRecord stream: records of
 *   u64le length | u32le masked CRC-32C of the 8 length bytes |
 *   data[length] | u32le masked CRC-32C of the data
 * where each data is an Event protobuf.  Scalars are read both in the old
 * form (Summary.Value.simple_value, PyTorch's default) and in the newer one
 * (Summary.Value.tensor: a rank-0 DT_FLOAT, DT_DOUBLE, DT_HALF or DT_BFLOAT16
 * TensorProto, from tensor_content or float_val / double_val / half_val);
 * both give the same series.  A missing step is 0 (proto3 leaves out zeros). */
#ifndef SR_TFEVENTS_H
#define SR_TFEVENTS_H

#include "problems.h"

#include <stddef.h>
#include <stdint.h>

/* One tag's points, in the order described by the function that filled it. */
typedef struct {
    char *tag;
    size_t n, cap;
    int64_t *steps;
    double *values;     /* simple_value / DT_FLOAT / DT_HALF / DT_BFLOAT16 widened exactly;
                           DT_DOUBLE tensors as they are */
    double *wall_times; /* seconds since the epoch */
} sr_scalar_series;

typedef struct {
    sr_scalar_series *items;
    size_t n, cap;
} sr_scalars;

/* Largest record accepted; a longer length field is treated as damage. */
#define SR_TFEVENTS_MAX_RECORD (64u << 20)

/* Reads one event file and appends its scalars to out (out zeroed, or
 * filled by earlier calls): points of a tag already in out go to the end of
 * its series, new tags are added in order of first appearance, and within a
 * file points keep their record order (not sorted, duplicates kept).
 *
 * Returns
 *    0  the whole file was read.  An empty file is a stream of zero records
 *       (a writer that has just created it has not flushed anything yet), so
 *       it returns 0 with no scalars;
 *    1  a damaged record was found; problem says which and where, e.g.
 *       "record 57 at byte 12345: data CRC mismatch" or "truncated record at
 *       byte 4890 (record 100: ...)".  A CRC mismatch, an over-long length or
 *       a cut-off record ends the read and everything before it is kept; a
 *       record whose CRCs match but whose Event cannot be decoded is skipped
 *       and reading goes on (problem names the first damage found);
 *   -1  not a TFRecord event file at all (cannot be opened, not a regular
 *       file, first record's length CRC wrong, first record not an Event, or
 *       leading bytes that cannot begin a record); out is untouched.
 * problem (may be NULL) is set to "" on 0. */
int sr_tfevents_read_file(const char *path, sr_scalars *out, char *problem, size_t len);

/* Reads every trial_dir/logs/ ... /events.out.tfevents.* file: the folder is
 * walked recursively (symbolic links followed, each folder visited once, at
 * most 16 levels deep), entries of a folder in natural name order
 * (sr_strnatcmp), so kohya's logs/{prefix}{YYYYmmddHHMMSS}/network_train/
 * folders come in time order.  Only tags starting with "loss/" or "lr/" are
 * kept.  Each series of out is then sorted by step, and when a step occurs
 * more than once (a resumed run writing a new file, or a restarted writer
 * going back in one file) the point read last wins.
 *
 * A missing logs/ folder is not a problem (no scalars).  Damaged or foreign
 * event files and unreadable folders are added to problems with their path;
 * whatever could be read from a damaged file is kept. */
void sr_tfevents_read_trial(const char *trial_dir, sr_scalars *out, sr_problems *problems);

/* The series of a tag, or NULL. */
const sr_scalar_series *sr_scalars_find(const sr_scalars *s, const char *tag);
/* Frees everything and leaves s empty (reusable). */
void sr_scalars_free(sr_scalars *s);

#endif
