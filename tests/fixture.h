/* fixture.h - hand-made sweep folders for tests. */
#ifndef SR_TEST_FIXTURE_H
#define SR_TEST_FIXTURE_H

#include <stddef.h>

/* Writes text to dir/rel, creating parent folders; aborts the test on error. */
void fx_write(const char *dir, const char *rel, const char *text);

/* Writes a small valid kohya-style LoRA file (two modules, F16) to dir/rel.
 * meta: NULL-terminated key, value, key, value... list for __metadata__
 * (may be NULL).  Returns the file size. */
size_t fx_write_lora(const char *dir, const char *rel, const char *const *meta);

/* The same file cut to keep bytes. */
void fx_write_lora_truncated(const char *dir, const char *rel, size_t keep);

/* A tiny valid PNG (solid colour). */
void fx_write_png(const char *dir, const char *rel, int w, int h, unsigned char r, unsigned char g,
                  unsigned char b);

#endif
