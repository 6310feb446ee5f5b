/* tfevents_write.h - writes TensorBoard event files of scalars, for
 * synthetic sweeps.
 *
 * The bytes are those of PyTorch's SummaryWriter.add_scalar (old-style
 * simple_value scalars, a "brain.Event:2" file_version event first), so
 * TensorBoard and sr_tfevents_read_file both read them.  The same calls give
 * the same bytes.  The file appears at its path only when closed (written to
 * a hidden temporary file in the same folder and renamed into place). */
#ifndef SR_TFEVENTS_WRITE_H
#define SR_TFEVENTS_WRITE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sr_tfevents_writer sr_tfevents_writer;

/* Starts the file with the file_version event stamped wall_time (seconds
 * since the epoch).  NULL with a reason in err when the temporary file
 * cannot be created. */
sr_tfevents_writer *sr_tfevents_open(const char *path, double wall_time, char *err, size_t len);

/* Appends Event{wall_time, step, summary{value{tag, simple_value}}}.
 * Returns 0, or -1 on a write error or an unusable tag (NULL, or over 1 MiB);
 * after a write error every later call fails and close reports it. */
int sr_tfevents_add_scalar(sr_tfevents_writer *w, const char *tag, int64_t step, float value,
                           double wall_time);

/* Flushes, syncs and renames the file into place, then frees w.  Returns 0,
 * or -1 with a reason in err (the destination is then left as it was). */
int sr_tfevents_close(sr_tfevents_writer *w, char *err, size_t len);

/* Frees w and removes the temporary file; the destination is not touched. */
void sr_tfevents_abort(sr_tfevents_writer *w);

#endif
