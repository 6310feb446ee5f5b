/* atomic_file.h - write outputs so that a reader never sees half a file.
 *
 * Data goes to a hidden temporary file in the destination's folder, is
 * flushed to disk, then renamed over the destination.  After a crash or
 * kill -9 at any instant the destination is either the old file or the new
 * one; at worst a ".NAME.sweepreport-tmp-*" file is left behind. */
#ifndef SR_ATOMIC_FILE_H
#define SR_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Every temporary of ours, file or folder, is named ".NAME" SR_TEMP_MARK
 * "XXXXXX": a mark no other tool uses, so that the clean-up of what a
 * killed run left (leftovers.h) never touches a trainer's own temporaries
 * beside its checkpoints. */
#define SR_TEMP_MARK ".sweepreport-tmp-"
/* A file swapped out by sr_atomic_commit_if is named ".NAME" SR_SWAP_MARK
 * "XXXXXX" until it is checked: no clean-up deletes it unchecked, so that a
 * run killed at that moment loses nothing of another tool's. */
#define SR_SWAP_MARK ".sweepreport-swap-"

typedef enum {
    SR_ATOMIC_REPLACE = 0,   /* replace an existing destination */
    SR_ATOMIC_NO_REPLACE = 1 /* fail with EEXIST if the destination exists, even
                                if it appeared while we were writing */
} sr_atomic_mode;

typedef struct {
    FILE *fp;
    char *path;
    char *tmp_path;
    sr_atomic_mode mode;
} sr_atomic_file;

/* Opens the temporary file.  Returns 0, or -1 with errno set. */
int sr_atomic_open(sr_atomic_file *af, const char *path, sr_atomic_mode mode);
/* Flushes, syncs and moves the file into place.  Returns 0, or -1 with errno
 * set (EEXIST for SR_ATOMIC_NO_REPLACE); the temporary file is removed either way. */
int sr_atomic_commit(sr_atomic_file *af);
/* Like sr_atomic_commit in SR_ATOMIC_NO_REPLACE mode, except that an
 * existing destination is replaced when may_replace(path, ctx) says so of
 * it.  The check and the replacement are one: the files are swapped
 * atomically, the one swapped out (under a SR_SWAP_MARK name) is checked,
 * and when it may not go (it is not what was checked before: it appeared
 * or changed meanwhile) it is swapped back.  Swap files a killed commit
 * left beside the destination are removed when may_replace allows.
 * Returns 0, or -1 with errno set (EEXIST: the destination was kept). */
int sr_atomic_commit_if(sr_atomic_file *af, int (*may_replace)(const char *path, void *ctx), void *ctx);
/* Throws the temporary file away. */
void sr_atomic_abort(sr_atomic_file *af);

/* One-call form.  Returns 0, or -1 with errno set. */
int sr_write_file_atomic(const char *path, const void *data, size_t len, sr_atomic_mode mode);
/* The same, committed by sr_atomic_commit_if. */
int sr_write_file_atomic_if(const char *path, const void *data, size_t len,
                            int (*may_replace)(const char *path, void *ctx), void *ctx);

/* rm -rf of a folder sweepreport made itself (temporary output); symbolic
 * links are removed, never followed. */
void sr_remove_tree(const char *dir);

/* The process's file mode creation mask, read without setting it: umask()
 * itself sets it, so calling it to read it leaves, for a moment, a mask
 * of 0 for every other thread creating files. */
unsigned sr_umask(void);

/* mkdir -p; returns 0, or -1 with errno set. */
int sr_mkdir_p(const char *path, unsigned mode);

#endif
