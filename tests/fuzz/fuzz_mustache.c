/* fuzz_mustache.c - libFuzzer target for the Mustache template engine.
 *
 * Input: TEMPLATE NUL JSON [NUL PARTIAL].  The template is compiled and
 * rendered with the JSON as context (no context when it does not parse);
 * every partial or parent name resolves to PARTIAL when there is one.
 *
 * Mustache output can grow exponentially with the input (sections over
 * arrays nested in sections, partials that include themselves twice), which
 * is the language, not a defect; inputs whose worst case is beyond a fixed
 * budget are skipped so that the fuzzer spends its time on the parser and
 * the renderer instead of on timeouts.  To that end a partial may not include
 * partials or parents itself (it may hold blocks). */
#include "config.h"

#include "json.h"
#include "mustache.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest array anywhere in v. */
static size_t max_array(const cJSON *v)
{
    size_t best = 0, n = 0;
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
        size_t m = max_array(c);
        if (m > best)
            best = m;
        n++;
    }
    if (cJSON_IsArray(v) && n > best)
        best = n;
    return best;
}

static size_t count_byte(const char *s, char c)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == c;
    return n;
}

static const char *partial_text(void *ctx, const char *name)
{
    (void)name;
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    /* NUL-terminated copy, split at the first two NULs. */
    char *buf = malloc(size + 1);
    if (!buf)
        abort();
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *tmpl = buf, *json = NULL, *partial = NULL;
    size_t tlen = strlen(buf);
    if (tlen < size) {
        json = buf + tlen + 1;
        size_t jlen = strlen(json);
        if (tlen + 1 + jlen < size)
            partial = json + jlen + 1;
    }
    if (partial && (strchr(partial, '>') || strchr(partial, '<')))
        partial = NULL;

    char err[256];
    cJSON *ctx = json ? sr_json_parse(json, strlen(json), err, sizeof err) : NULL;

    /* Worst case: every section loops over the longest array, nested as
     * deep as there are section tags, copying all the text each time. */
    double sections = (double)(count_byte(tmpl, '#') + count_byte(partial, '#'));
    double longest = (double)max_array(ctx);
    double work = (double)size * (longest > 1 ? pow(longest, sections) : 1.0);
    if (work <= 1 << 24) {
        err[0] = '\0';
        sr_mustache *t = sr_mustache_compile(tmpl, err, sizeof err);
        if (!t) {
            if (!err[0])
                __builtin_trap(); /* a compile error always says why */
        } else {
            err[0] = '\0';
            char *out = sr_mustache_render(t, ctx, partial ? partial_text : NULL, (void *)partial, err,
                                           sizeof err);
            if (!out && !err[0])
                __builtin_trap();
            free(out);
            sr_mustache_free(t);
        }
    }
    cJSON_Delete(ctx);
    free(buf);
    return 0;
}
