/* test_mustache.c - the Mustache specification suite and the engine's own edge cases. */
#include "config.h"

#include "check_main.h"
#include "json.h"
#include "mustache.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A printable, escaped copy of s for failure messages. */
static char *escaped(const char *s)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '\n': sr_buf_puts(&b, "\\n"); break;
        case '\r': sr_buf_puts(&b, "\\r"); break;
        case '\t': sr_buf_puts(&b, "\\t"); break;
        case '\\': sr_buf_puts(&b, "\\\\"); break;
        case '"': sr_buf_puts(&b, "\\\""); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sr_buf_printf(&b, "\\x%02x", *p);
            else
                sr_buf_append(&b, p, 1);
        }
    }
    sr_buf_puts(&b, "\"");
    return sr_buf_steal(&b);
}

/* Partials from a JSON object: name -> template string. */
static const char *json_partial(void *ctx, const char *name)
{
    const cJSON *obj = ctx;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Runs every test of one spec file and fails on any mismatch (each one is printed). */
static void run_spec(const char *file, int expect_tests)
{
    char *rel = xasprintf("tests/data/mustache-spec/%s", file);
    char *path = test_srcpath(rel);
    char err[512];
    cJSON *spec = sr_json_load(path, err, sizeof err);
    ck_assert_msg(spec != NULL, "%s: %s", path, err);
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(spec, "tests");
    ck_assert(cJSON_IsArray(tests));
    int total = 0, failed = 0;
    const cJSON *tc;
    cJSON_ArrayForEach(tc, tests)
    {
        const char *name = sr_json_string(tc, "name");
        const char *tmpl = sr_json_string(tc, "template");
        const char *expected = sr_json_string(tc, "expected");
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(tc, "data");
        const cJSON *partials = cJSON_GetObjectItemCaseSensitive(tc, "partials");
        ck_assert(name && tmpl && expected);
        total++;
        err[0] = '\0';
        char *got = sr_mustache_render_text(tmpl, data, json_partial, (void *)partials, err, sizeof err);
        if (!got || strcmp(got, expected) != 0) {
            char *e = escaped(expected), *g = escaped(got);
            fprintf(stderr, "# %s: \"%s\"\n#   expected: %s\n#   got:      %s%s%s\n", file, name, e,
                    got ? g : "(error)", got ? "" : " ", got ? "" : err);
            free(e);
            free(g);
            failed++;
        }
        free(got);
    }
    fprintf(stderr, "# %s: %d/%d passed\n", file, total - failed, total);
    ck_assert_msg(failed == 0, "%s: %d of %d spec tests failed", file, failed, total);
    ck_assert_int_eq(total, expect_tests);
    cJSON_Delete(spec);
    free(path);
    free(rel);
}

START_TEST(test_spec_comments)
{
    run_spec("comments.json", 12);
}
END_TEST

START_TEST(test_spec_delimiters)
{
    run_spec("delimiters.json", 14);
}
END_TEST

START_TEST(test_spec_interpolation)
{
    run_spec("interpolation.json", 42);
}
END_TEST

START_TEST(test_spec_inverted)
{
    run_spec("inverted.json", 22);
}
END_TEST

START_TEST(test_spec_partials)
{
    run_spec("partials.json", 12);
}
END_TEST

START_TEST(test_spec_sections)
{
    run_spec("sections.json", 34);
}
END_TEST

START_TEST(test_spec_dynamic_names)
{
    run_spec("~dynamic-names.json", 21);
}
END_TEST

START_TEST(test_spec_inheritance)
{
    run_spec("~inheritance.json", 27);
}
END_TEST

static cJSON *parse(const char *text)
{
    char err[256];
    cJSON *j = sr_json_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(j != NULL, "parse of %s failed: %s", text, err);
    return j;
}

/* Renders text with data (JSON text) and no partials; the template must compile. */
static char *render(const char *text, const char *json)
{
    char err[256];
    cJSON *data = parse(json);
    char *out = sr_mustache_render_text(text, data, NULL, NULL, err, sizeof err);
    ck_assert_msg(out != NULL, "render of %s failed: %s", text, err);
    cJSON_Delete(data);
    return out;
}

static void expect_render(const char *text, const char *json, const char *expected)
{
    char *out = render(text, json);
    ck_assert_str_eq(out, expected);
    free(out);
}

/* The template must not compile and the reason must contain want. */
static void expect_compile_error(const char *text, const char *want)
{
    char err[256] = "";
    sr_mustache *t = sr_mustache_compile(text, err, sizeof err);
    ck_assert_msg(t == NULL, "%s compiled", text);
    ck_assert_msg(strstr(err, want) != NULL, "error for %s is \"%s\", wanted \"%s\"", text, err, want);
}

START_TEST(test_errors)
{
    expect_compile_error("{{#a}}never closed", "line 1, column 1: section 'a' is never closed");
    expect_compile_error("x\n  {{#a}}\n{{#b}}{{/b}}\n", "line 2, column 3: section 'a' is never closed");
    expect_compile_error("{{#a}}\n x {{/b}}", "line 2, column 4: mismatched section end 'b'");
    expect_compile_error("{{#a}}\n x {{/b}}", "opened at line 1, column 1");
    expect_compile_error("text {{/b}}", "line 1, column 6: section end 'b' without a section");
    expect_compile_error("ok\n{{=<% =}}", "line 2, column 1: bad delimiter change");
    expect_compile_error("{{=<%%>=}}", "line 1, column 1: bad delimiter change");
    expect_compile_error("{{=<% %> x=}}", "bad delimiter change");
    expect_compile_error("{{= =}}", "bad delimiter change");
    expect_compile_error("{{=<% %>}}", "line 1, column 1: unclosed tag");
    expect_compile_error("a\nb {{name", "line 2, column 3: unclosed tag");
    expect_compile_error("{{{name}}", "line 1, column 1: unclosed tag");
    expect_compile_error("{{=<% %>=}}\n<%name}}", "line 2, column 1: unclosed tag");
    expect_compile_error("{{ }}", "tag without a name");
    /* inheritance tags: named, closed, and closed with the same name */
    expect_compile_error("{{<parent}}{{$a}}x{{/parent}}", "line 1, column 19: mismatched section end 'parent'");
    expect_compile_error("{{<parent}}{{$a}}x{{/parent}}", "section 'a' opened at line 1, column 12");
    expect_compile_error("x\n {{<parent}}", "line 2, column 2: section 'parent' is never closed");
    expect_compile_error("{{$ }}x{{/ }}", "line 1, column 1: tag without a name");
    expect_compile_error("{{< }}{{/ }}", "line 1, column 1: tag without a name");
    expect_compile_error("{{<*p}}{{/p}}", "mismatched section end 'p'");
    expect_compile_error("{{<p}}{{/*p}}", "mismatched section end '*p'");

    /* a partial that does not compile fails the render */
    char err[256] = "";
    cJSON *p = parse("{\"bad\": \"{{#x}}\"}");
    char *out = sr_mustache_render_text("[{{>bad}}]", NULL, json_partial, p, err, sizeof err);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, "partial 'bad'") && strstr(err, "line 1, column 1"), "%s", err);
    cJSON_Delete(p);

    /* NULL arguments */
    ck_assert_ptr_null(sr_mustache_render(NULL, NULL, NULL, NULL, err, sizeof err));
    sr_mustache_free(NULL);
}
END_TEST

/* A closing delimiter that starts with a tag's type character: the tag's
 * content begins after that character, so the closing delimiter is looked
 * for from there. */
START_TEST(test_close_delimiter_after_sigil)
{
    expect_compile_error("{{=<% #>=}}<%#>", "line 1, column 12: unclosed tag (no '#>' after '<%')");
    expect_compile_error("{{=<% />=}}<%/>", "unclosed tag");
    expect_compile_error("{{=<% !>=}}x<%!>", "unclosed tag");
    expect_compile_error("{{=[ >]=}}[>]", "unclosed tag");
    expect_render("{{=<% #>=}}<%#a#>[<%b#>]<%/a#>", "{\"a\": {\"b\": 1}}", "[1]");
    expect_render("{{=[ >]=}}[>p>][!c>]x[!>]", "{}", "x");
}
END_TEST

START_TEST(test_inheritance)
{
    char err[256] = "";
    cJSON *p = parse("{\"page\": \"<{{$title}}untitled{{/title}}|{{$body}}-{{/body}}>\","
                     " \"loop\": \"{{<loop}}{{/loop}}\"}");
    cJSON *data = parse("{\"which\": \"page\", \"t\": \"a&b\"}");
    /* overrides, defaults, dynamic parent names, text in a parent ignored */
    char *out = sr_mustache_render_text("{{<page}}ignored{{$title}}{{t}}{{/title}}{{/page}}|{{<*which}}{{/*which}}",
                                        data, json_partial, p, err, sizeof err);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert_str_eq(out, "<a&amp;b|->|<untitled|->");
    free(out);
    /* an unknown parent renders as nothing, a block outside any parent as its default */
    out = sr_mustache_render_text("[{{<nope}}{{$x}}y{{/x}}{{/nope}}][{{$x}}z{{/x}}]", data, json_partial, p, err,
                                  sizeof err);
    ck_assert_msg(out != NULL, "%s", err);
    ck_assert_str_eq(out, "[][z]");
    free(out);
    /* unbounded parent recursion stops with an error */
    out = sr_mustache_render_text("{{<loop}}{{/loop}}", data, json_partial, p, err, sizeof err);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, "nested deeper than") != NULL, "%s", err);
    cJSON_Delete(data);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_deep_nesting)
{
    enum { N = 10000 };
    sr_buf b;
    sr_buf_init(&b);
    for (int i = 0; i < N; i++)
        sr_buf_puts(&b, "{{#a}}");
    sr_buf_puts(&b, "x");
    for (int i = 0; i < N; i++)
        sr_buf_puts(&b, "{{/a}}");
    char err[256] = "";
    sr_mustache *t = sr_mustache_compile(b.s, err, sizeof err);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err, "nested deeper than") != NULL, "%s", err);
    sr_buf_free(&b);

    /* unclosed, too: no crash */
    sr_buf_init(&b);
    for (int i = 0; i < N; i++)
        sr_buf_puts(&b, "{{^a}}");
    ck_assert_ptr_null(sr_mustache_compile(b.s, err, sizeof err));
    sr_buf_free(&b);

    /* within the limit it renders */
    sr_buf_init(&b);
    for (int i = 0; i < SR_MUSTACHE_MAX_NESTING; i++)
        sr_buf_puts(&b, "{{#a}}");
    sr_buf_puts(&b, "{{x}}");
    for (int i = 0; i < SR_MUSTACHE_MAX_NESTING; i++)
        sr_buf_puts(&b, "{{/a}}");
    expect_render(b.s, "{\"a\": true, \"x\": 7}", "7");
    sr_buf_free(&b);

    /* unbounded partial recursion stops with an error */
    cJSON *p = parse("{\"loop\": \"<{{>loop}}\", \"ind\": \"a\\n  {{>ind}}\\n\"}");
    char *out = sr_mustache_render_text("{{>loop}}", NULL, json_partial, p, err, sizeof err);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, "nested deeper than") != NULL, "%s", err);
    out = sr_mustache_render_text("{{>ind}}", NULL, json_partial, p, err, sizeof err);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(err, "nested deeper than") != NULL, "%s", err);
    cJSON_Delete(p);
}
END_TEST

START_TEST(test_escaping)
{
    expect_render("{{s}}|{{{s}}}|{{& s}}", "{\"s\": \"<a href=\\\"x?a=1&b=2\\\" title='t'>\"}",
                  "&lt;a href=&quot;x?a=1&amp;b=2&quot; title=&#39;t&#39;&gt;|"
                  "<a href=\"x?a=1&b=2\" title='t'>|<a href=\"x?a=1&b=2\" title='t'>");
    /* a value that looks like a tag is not expanded */
    expect_render("{{s}}", "{\"s\": \"{{s}}\"}", "{{s}}");
    /* multi-byte UTF-8 passes through */
    expect_render("{{s}}", "{\"s\": \"\xc3\xa9\xe2\x82\xac\"}", "\xc3\xa9\xe2\x82\xac");
}
END_TEST

START_TEST(test_values)
{
    expect_render("{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
                  "{\"a\": 85, \"b\": 1.5, \"c\": 0.1, \"d\": -3, \"e\": 1e20, \"f\": 0.30000000000000004, \"g\": -0}",
                  "85 1.5 0.1 -3 1e+20 0.30000000000000004 0");
    expect_render("{{t}} {{f}} [{{n}}] [{{o}}] [{{l}}] [{{missing}}]",
                  "{\"t\": true, \"f\": false, \"n\": null, \"o\": {\"k\": 1}, \"l\": [1]}", "true false [] [] [] []");
    /* truthiness: 0 and "" are truthy, empty lists and null are not */
    expect_render("{{#z}}z{{/z}}{{#e}}e{{/e}}{{#l}}l{{/l}}{{#n}}n{{/n}}{{^l}}!l{{/l}}{{^n}}!n{{/n}}",
                  "{\"z\": 0, \"e\": \"\", \"l\": [], \"n\": null}", "ze!l!n");
    /* lists of objects, dotted names, the implicit iterator */
    expect_render("{{#rows}}{{name}}={{v.x}};{{/rows}}|{{#nums}}{{.}},{{/nums}}",
                  "{\"rows\": [{\"name\": \"a\", \"v\": {\"x\": 1}}, {\"name\": \"b\", \"v\": {\"x\": 2.25}}],"
                  " \"nums\": [1, 2, 3]}",
                  "a=1;b=2.25;|1,2,3,");
    /* NULL context */
    char err[64];
    char *out = sr_mustache_render_text("[{{x}}{{^x}}none{{/x}}]", NULL, NULL, NULL, err, sizeof err);
    ck_assert_str_eq(out, "[none]");
    free(out);
    /* a partial without a callback renders as nothing */
    out = sr_mustache_render_text("[{{>p}}]", NULL, NULL, NULL, err, sizeof err);
    ck_assert_str_eq(out, "[]");
    free(out);
}
END_TEST

START_TEST(test_partials_indent_and_cache)
{
    cJSON *p = parse("{\"row\": \"<tr>\\n  <td>{{name}}</td>\\n</tr>\\n\"}");
    cJSON *data = parse("{\"rows\": [{\"name\": \"a\"}, {\"name\": \"b<\"}]}");
    char err[256];
    sr_mustache *t = sr_mustache_compile("<table>\n{{#rows}}\n  {{>row}}\n{{/rows}}\n</table>\n", err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    const char *want = "<table>\n  <tr>\n    <td>a</td>\n  </tr>\n  <tr>\n    <td>b&lt;</td>\n  </tr>\n</table>\n";
    char *a = sr_mustache_render(t, data, json_partial, p, err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    ck_assert_str_eq(a, want);
    /* deterministic: the same template and data give the same bytes */
    char *b = sr_mustache_render(t, data, json_partial, p, err, sizeof err);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    sr_mustache_free(t);
    cJSON_Delete(data);
    cJSON_Delete(p);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("mustache");
    TCase *tc = tcase_create("spec");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_spec_comments);
    tcase_add_test(tc, test_spec_delimiters);
    tcase_add_test(tc, test_spec_interpolation);
    tcase_add_test(tc, test_spec_inverted);
    tcase_add_test(tc, test_spec_partials);
    tcase_add_test(tc, test_spec_sections);
    tcase_add_test(tc, test_spec_dynamic_names);
    tcase_add_test(tc, test_spec_inheritance);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_close_delimiter_after_sigil);
    tcase_add_test(tc, test_inheritance);
    tcase_add_test(tc, test_deep_nesting);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_values);
    tcase_add_test(tc, test_partials_indent_and_cache);
    suite_add_tcase(s, tc);
    return s;
}
