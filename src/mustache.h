/* mustache.h - Mustache templates for the HTML report.
 *
 * Implements the core Mustache specification (comments, delimiters,
 * interpolation, inverted sections, partials, sections) plus the optional
 * dynamic partial names ({{>*name}}) and inheritance: parents
 * ({{<name}}...{{/name}}, or {{<*name}} with a dynamic name) and blocks
 * ({{$name}}default{{/name}}).  A parent renders the template it names like a
 * partial, with the blocks directly inside it overriding that template's
 * blocks of the same name (the outermost parent wins); other text inside a
 * parent is ignored.  Lambdas are not supported.
 *
 * The data model is cJSON:
 *   - false, null, a missing name and an empty array are falsey; every other
 *     value (including 0 and "") is truthy;
 *   - a section over an array renders once per element, over any other
 *     truthy value once with that value pushed on the context stack;
 *   - numbers print in their shortest form (85 -> "85", 1.5 -> "1.5"),
 *     booleans as "true" / "false", null and missing names as nothing, and
 *     objects and arrays as nothing;
 *   - {{name}} escapes & < > " and ' (as &amp; &lt; &gt; &quot; &#39;);
 *     {{{name}}} and {{& name}} do not escape.
 *
 * Error messages carry the line and column (1-based, in bytes) of the tag
 * at fault. */
#ifndef SR_MUSTACHE_H
#define SR_MUSTACHE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* Sections nested deeper than this are a compile error. */
#define SR_MUSTACHE_MAX_NESTING 512
/* Partials and parents nested deeper than this (e.g. unbounded recursion) are a render error. */
#define SR_MUSTACHE_MAX_PARTIAL_DEPTH 64

typedef struct sr_mustache sr_mustache; /* a compiled template */

/* Partials are looked up through this callback: name -> template text, or
 * NULL when unknown (which renders as nothing).  The text must stay valid
 * for the duration of the render call. */
typedef const char *(*sr_mustache_partial_fn)(void *ctx, const char *name);

/* Compiles text.  On error (unclosed tag or section, mismatched section end,
 * bad delimiter change, ...) returns NULL and writes a reason with the line
 * and column into err. */
sr_mustache *sr_mustache_compile(const char *text, char *err, size_t errlen);

/* Renders with a cJSON context (may be NULL).  partials may be NULL (every
 * partial renders as nothing).  Partials are compiled on demand and cached
 * for the duration of the call.  Returns a malloc'd string, or NULL with a
 * reason in err (a partial that does not compile, partials or sections nested
 * too deep). */
char *sr_mustache_render(const sr_mustache *t, const cJSON *context, sr_mustache_partial_fn partials,
                         void *ctx, char *err, size_t errlen);

void sr_mustache_free(sr_mustache *t);

/* One call: compile + render. */
char *sr_mustache_render_text(const char *text, const cJSON *context, sr_mustache_partial_fn partials,
                              void *ctx, char *err, size_t errlen);

#endif
