/* lock.h - one run per sweep at a time.
 *
 * The lock is an flock(2) on SWEEP/.sweepreport/run.lock.  The kernel drops
 * it when its holder exits or is killed, so the file left behind never blocks
 * anyone: only a live process holds the lock.  While held, the file says who
 * holds it (pid, host, start time, command), for the message a second run
 * prints. */
#ifndef SR_LOCK_H
#define SR_LOCK_H

#include <signal.h>
#include <stddef.h>

typedef struct {
    int fd;          /* -1 when not held */
    int shared;      /* held with others (see sr_lock_acquire_shared) */
    char *path;
} sr_lock;

typedef struct {
    long pid;        /* 0 when unknown */
    char host[256];
    char started[64]; /* UTC, ISO 8601 */
    char command[64];
} sr_lock_holder;

enum {
    SR_LOCK_HELD = 0,    /* we hold it */
    SR_LOCK_BUSY = 1,    /* another process held it for the whole wait */
    SR_LOCK_ERROR = -1   /* the lock file cannot be made or opened */
};

/* SWEEP/.sweepreport/run.lock (the caller frees). */
char *sr_lock_path(const char *sweep_path);

/* Takes the lock of the sweep for command (e.g. "run"), trying again for up
 * to wait_s seconds (0: once).  SR_LOCK_BUSY fills *holder as far as the
 * file tells and writes "PATH: locked by pid N on HOST since TIME (COMMAND)"
 * into err; SR_LOCK_ERROR writes "PATH: reason" and leaves errno set.
 * Unless held, *l is left released. */
int sr_lock_acquire(sr_lock *l, const char *sweep_path, const char *command, double wait_s, sr_lock_holder *holder,
                    char *err, size_t errlen);

/* The same, giving up early (SR_LOCK_BUSY, as when the time is up) once
 * *stop is set, e.g. by a signal handler.  With reads_only (a caller that
 * writes nothing into the sweep), a lock file it may not write is opened
 * for reading: it locks all the same. */
int sr_lock_acquire_or_stop(sr_lock *l, const char *sweep_path, const char *command, int reads_only, double wait_s,
                            volatile sig_atomic_t *stop, sr_lock_holder *holder, char *err, size_t errlen);

/* The same, shared: any number of shared holders at once (the shards of
 * one eval, which write only their own checkpoints' files), none while an
 * exclusive holder (run, render, a whole eval) has it, and the other way
 * round. */
int sr_lock_acquire_shared(sr_lock *l, const char *sweep_path, const char *command, double wait_s,
                           sr_lock_holder *holder, char *err, size_t errlen);

/* Lets go (and, held alone, empties the file); harmless when not held. */
void sr_lock_release(sr_lock *l);

/* Reads what a lock file says about its holder: 0, or -1 when it says
 * nothing (missing, empty or unreadable). */
int sr_lock_read_holder(const char *path, sr_lock_holder *h);

#endif
