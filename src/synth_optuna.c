/* synth_optuna.c - an Optuna 3.1 RDB storage (SQLite) for a synthetic sweep. */
#include "config.h"

#include "synth_optuna.h"
#include "atomic_file.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------------------
 * The schema, exactly as SQLAlchemy emits it for Optuna 3.1 (models.py), in
 * the order it creates the tables.
 * ------------------------------------------------------------------------- */

static const char *const schema_ddl[] = {
    "CREATE TABLE studies (\n"
    "\tstudy_id INTEGER NOT NULL, \n"
    "\tstudy_name VARCHAR(512) NOT NULL, \n"
    "\tPRIMARY KEY (study_id)\n"
    ")",
    "CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)",
    "CREATE TABLE version_info (\n"
    "\tversion_info_id INTEGER NOT NULL, \n"
    "\tschema_version INTEGER, \n"
    "\tlibrary_version VARCHAR(256), \n"
    "\tPRIMARY KEY (version_info_id), \n"
    "\tCHECK (version_info_id=1)\n"
    ")",
    "CREATE TABLE study_directions (\n"
    "\tstudy_direction_id INTEGER NOT NULL, \n"
    "\tdirection VARCHAR(8) NOT NULL, \n"
    "\tstudy_id INTEGER NOT NULL, \n"
    "\tobjective INTEGER NOT NULL, \n"
    "\tPRIMARY KEY (study_direction_id), \n"
    "\tUNIQUE (study_id, objective), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ")",
    "CREATE TABLE study_user_attributes (\n"
    "\tstudy_user_attribute_id INTEGER NOT NULL, \n"
    "\tstudy_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (study_user_attribute_id), \n"
    "\tUNIQUE (study_id, \"key\"), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ")",
    "CREATE TABLE study_system_attributes (\n"
    "\tstudy_system_attribute_id INTEGER NOT NULL, \n"
    "\tstudy_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (study_system_attribute_id), \n"
    "\tUNIQUE (study_id, \"key\"), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ")",
    "CREATE TABLE trials (\n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tnumber INTEGER, \n"
    "\tstudy_id INTEGER, \n"
    "\tstate VARCHAR(8) NOT NULL, \n"
    "\tdatetime_start DATETIME, \n"
    "\tdatetime_complete DATETIME, \n"
    "\tPRIMARY KEY (trial_id), \n"
    "\tFOREIGN KEY(study_id) REFERENCES studies (study_id)\n"
    ")",
    "CREATE TABLE trial_user_attributes (\n"
    "\ttrial_user_attribute_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (trial_user_attribute_id), \n"
    "\tUNIQUE (trial_id, \"key\"), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ")",
    "CREATE TABLE trial_system_attributes (\n"
    "\ttrial_system_attribute_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\t\"key\" VARCHAR(512), \n"
    "\tvalue_json TEXT, \n"
    "\tPRIMARY KEY (trial_system_attribute_id), \n"
    "\tUNIQUE (trial_id, \"key\"), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ")",
    "CREATE TABLE trial_params (\n"
    "\tparam_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER, \n"
    "\tparam_name VARCHAR(512), \n"
    "\tparam_value FLOAT, \n"
    "\tdistribution_json TEXT, \n"
    "\tPRIMARY KEY (param_id), \n"
    "\tUNIQUE (trial_id, param_name), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ")",
    "CREATE TABLE trial_values (\n"
    "\ttrial_value_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tobjective INTEGER NOT NULL, \n"
    "\tvalue FLOAT, \n"
    "\tvalue_type VARCHAR(7) NOT NULL, \n"
    "\tPRIMARY KEY (trial_value_id), \n"
    "\tUNIQUE (trial_id, objective), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ")",
    "CREATE TABLE trial_intermediate_values (\n"
    "\ttrial_intermediate_value_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\tstep INTEGER NOT NULL, \n"
    "\tintermediate_value FLOAT, \n"
    "\tintermediate_value_type VARCHAR(7) NOT NULL, \n"
    "\tPRIMARY KEY (trial_intermediate_value_id), \n"
    "\tUNIQUE (trial_id, step), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ")",
    "CREATE TABLE trial_heartbeats (\n"
    "\ttrial_heartbeat_id INTEGER NOT NULL, \n"
    "\ttrial_id INTEGER NOT NULL, \n"
    "\theartbeat DATETIME NOT NULL, \n"
    "\tPRIMARY KEY (trial_heartbeat_id), \n"
    "\tUNIQUE (trial_id), \n"
    "\tFOREIGN KEY(trial_id) REFERENCES trials (trial_id)\n"
    ")",
    "CREATE TABLE alembic_version (\n"
    "\tversion_num VARCHAR(32) NOT NULL, \n"
    "\tCONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n"
    ")",
};

/* ---------------------------------------------------------------------------
 * JSON as Python's json.dumps writes it (", " and ": ", ensure_ascii)
 * ------------------------------------------------------------------------- */

/* Python's repr() of a finite float: the shortest digits that read back the
 * same, positional for exponents -4..15, else d.ddde+XX. */
static void py_repr(char *buf, size_t len, double v)
{
    char tmp[40];
    for (int p = 0; p <= 16; p++) {
        snprintf(tmp, sizeof tmp, "%.*e", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp: [-]d[.ddd]e(+|-)XX */
    const char *s = tmp;
    int neg = *s == '-';
    if (neg)
        s++;
    char digits[24];
    size_t nd = 0;
    for (; *s && *s != 'e'; s++)
        if (isdigit((unsigned char)*s) && nd + 1 < sizeof digits)
            digits[nd++] = *s;
    digits[nd] = '\0';
    int exp = *s == 'e' ? atoi(s + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';

    sr_buf b;
    sr_buf_init(&b);
    if (neg)
        sr_buf_puts(&b, "-");
    if (exp >= -4 && exp < 16) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++)
                sr_buf_append(&b, (size_t)i < nd ? &digits[i] : "0", 1);
            sr_buf_puts(&b, ".");
            if ((size_t)exp + 1 < nd)
                sr_buf_puts(&b, digits + exp + 1);
            else
                sr_buf_puts(&b, "0");
        } else {
            sr_buf_puts(&b, "0.");
            for (int i = 0; i < -exp - 1; i++)
                sr_buf_puts(&b, "0");
            sr_buf_puts(&b, digits);
        }
    } else {
        sr_buf_append(&b, digits, 1);
        if (nd > 1) {
            sr_buf_puts(&b, ".");
            sr_buf_puts(&b, digits + 1);
        }
        sr_buf_printf(&b, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    }
    snprintf(buf, len, "%s", b.s);
    sr_buf_free(&b);
}

/* How numbers are written: as the item says, or all as floats / integers. */
typedef enum { NUM_AS_IS, NUM_FLOAT, NUM_INT } num_mode;

/* The number of a number or raw-number item. */
static int item_number(const cJSON *it, double *out)
{
    if (cJSON_IsNumber(it)) {
        *out = it->valuedouble;
        return 0;
    }
    if (cJSON_IsRaw(it) && it->valuestring) {
        const char *s = it->valuestring;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            return -1;
        char *end;
        double v = strtod(s, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (*end)
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

static void dump_number(sr_buf *b, double v, num_mode mode)
{
    char tmp[48];
    if (isnan(v)) {
        sr_buf_puts(b, "NaN");
    } else if (isinf(v)) {
        sr_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    } else if (mode == NUM_INT || (mode == NUM_AS_IS && v == floor(v) && fabs(v) < 9007199254740992.0)) {
        sr_buf_printf(b, "%.0f", v);
    } else {
        py_repr(tmp, sizeof tmp, v);
        sr_buf_puts(b, tmp);
    }
}

/* Decodes one UTF-8 sequence; an invalid byte reads as U+FFFD. */
static unsigned long utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned long c = s[0];
    int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0) {
        *p = s + 1;
        return 0xfffd;
    }
    c &= n == 0 ? 0x7f : n == 1 ? 0x1f : n == 2 ? 0x0f : 0x07;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + 1;
            return 0xfffd;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    return c;
}

static void dump_string(sr_buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    sr_buf_puts(b, "\"");
    while (*s) {
        unsigned long c = utf8_next(&s);
        switch (c) {
        case '"': sr_buf_puts(b, "\\\""); break;
        case '\\': sr_buf_puts(b, "\\\\"); break;
        case '\n': sr_buf_puts(b, "\\n"); break;
        case '\r': sr_buf_puts(b, "\\r"); break;
        case '\t': sr_buf_puts(b, "\\t"); break;
        case '\b': sr_buf_puts(b, "\\b"); break;
        case '\f': sr_buf_puts(b, "\\f"); break;
        default:
            if (c < 0x20 || (c >= 0x7f && c < 0x10000)) {
                sr_buf_printf(b, "\\u%04lx", c);
            } else if (c >= 0x10000) {
                c -= 0x10000;
                sr_buf_printf(b, "\\u%04lx\\u%04lx", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
            } else {
                char ch = (char)c;
                sr_buf_append(b, &ch, 1);
            }
        }
    }
    sr_buf_puts(b, "\"");
}

static void dump_json(sr_buf *b, const cJSON *it, num_mode mode)
{
    double v;
    if (cJSON_IsRaw(it)) {
        if (mode != NUM_AS_IS && item_number(it, &v) == 0)
            dump_number(b, v, mode);
        else
            sr_buf_puts(b, it->valuestring ? it->valuestring : "null");
    } else if (cJSON_IsNumber(it)) {
        dump_number(b, it->valuedouble, mode);
    } else if (cJSON_IsString(it)) {
        dump_string(b, it->valuestring);
    } else if (cJSON_IsTrue(it)) {
        sr_buf_puts(b, "true");
    } else if (cJSON_IsFalse(it)) {
        sr_buf_puts(b, "false");
    } else if (cJSON_IsArray(it) || cJSON_IsObject(it)) {
        int obj = cJSON_IsObject(it);
        sr_buf_puts(b, obj ? "{" : "[");
        for (const cJSON *c = it->child; c; c = c->next) {
            if (c != it->child)
                sr_buf_puts(b, ", ");
            if (obj) {
                dump_string(b, c->string);
                sr_buf_puts(b, ": ");
            }
            dump_json(b, c, mode);
        }
        sr_buf_puts(b, obj ? "}" : "]");
    } else {
        sr_buf_puts(b, "null");
    }
}

static char *py_dumps(const cJSON *it, num_mode mode)
{
    sr_buf b;
    sr_buf_init(&b);
    dump_json(&b, it, mode);
    return sr_buf_steal(&b);
}

/* ---------------------------------------------------------------------------
 * Distributions
 * ------------------------------------------------------------------------- */

typedef enum { DIST_FLOAT, DIST_INT, DIST_CATEGORICAL } dist_kind;

typedef struct {
    dist_kind kind;
    double low, high, step; /* step 0: none (float) */
    int log;
    const cJSON *choices;
    const cJSON *attrs;
} dist_info;

static int attr_bool(const cJSON *attrs, const char *key, int *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(attrs, key);
    if (!it || cJSON_IsNull(it)) {
        *out = 0;
        return 0;
    }
    if (!cJSON_IsBool(it))
        return -1;
    *out = cJSON_IsTrue(it);
    return 0;
}

/* Parses and checks a distribution object as Optuna's constructors would. */
static int parse_dist(const cJSON *d, dist_info *di, char *why, size_t whylen)
{
    memset(di, 0, sizeof *di);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(d, "name");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(d, "attributes");
    if (!cJSON_IsObject(d) || !cJSON_IsString(name) || !cJSON_IsObject(attrs)) {
        snprintf(why, whylen, "the distribution is not {\"name\": ..., \"attributes\": {...}}");
        return -1;
    }
    di->attrs = attrs;
    if (strcmp(name->valuestring, "CategoricalDistribution") == 0) {
        di->kind = DIST_CATEGORICAL;
        di->choices = cJSON_GetObjectItemCaseSensitive(attrs, "choices");
        if (!cJSON_IsArray(di->choices) || cJSON_GetArraySize(di->choices) == 0) {
            snprintf(why, whylen, "a categorical distribution needs a non-empty \"choices\" array");
            return -1;
        }
        for (const cJSON *c = di->choices->child; c; c = c->next) {
            double v;
            if (!(cJSON_IsString(c) || cJSON_IsBool(c) || cJSON_IsNull(c) || item_number(c, &v) == 0)) {
                snprintf(why, whylen, "a categorical choice must be a string, number, boolean or null");
                return -1;
            }
        }
        return 0;
    }
    int is_float = strcmp(name->valuestring, "FloatDistribution") == 0;
    int is_int = strcmp(name->valuestring, "IntDistribution") == 0;
    if (!is_float && !is_int) {
        snprintf(why, whylen, "unsupported distribution '%s'", name->valuestring);
        return -1;
    }
    di->kind = is_float ? DIST_FLOAT : DIST_INT;
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(attrs, "step");
    if (item_number(cJSON_GetObjectItemCaseSensitive(attrs, "low"), &di->low) != 0 ||
        item_number(cJSON_GetObjectItemCaseSensitive(attrs, "high"), &di->high) != 0 || !isfinite(di->low) ||
        !isfinite(di->high) || attr_bool(attrs, "log", &di->log) != 0) {
        snprintf(why, whylen, "%s needs finite \"low\" and \"high\" and a boolean \"log\"", name->valuestring);
        return -1;
    }
    if (step && !cJSON_IsNull(step)) {
        if (item_number(step, &di->step) != 0 || !(di->step > 0) || !isfinite(di->step)) {
            snprintf(why, whylen, "%s: \"step\" must be a positive number or null", name->valuestring);
            return -1;
        }
    } else if (is_int) {
        di->step = 1;
    }
    if (di->low > di->high) {
        snprintf(why, whylen, "%s: low > high", name->valuestring);
        return -1;
    }
    if (is_int && (di->low != floor(di->low) || di->high != floor(di->high) || di->step != floor(di->step))) {
        snprintf(why, whylen, "IntDistribution: low, high and step must be integers");
        return -1;
    }
    if (di->log && ((is_float && di->step != 0) || (is_int && di->step != 1))) {
        snprintf(why, whylen, "%s: a log distribution cannot have a step", name->valuestring);
        return -1;
    }
    if (di->log && (is_float ? !(di->low > 0) : di->low < 1)) {
        snprintf(why, whylen, "%s: a log distribution needs low > 0", name->valuestring);
        return -1;
    }
    return 0;
}

static int same_choice(const cJSON *a, const cJSON *b)
{
    double x, y;
    if (item_number(a, &x) == 0 && item_number(b, &y) == 0)
        return x == y;
    if (cJSON_IsString(a) && cJSON_IsString(b))
        return strcmp(a->valuestring, b->valuestring) == 0;
    if (cJSON_IsBool(a) && cJSON_IsBool(b))
        return cJSON_IsTrue(a) == cJSON_IsTrue(b);
    return cJSON_IsNull(a) && cJSON_IsNull(b);
}

/* The value Optuna stores (its internal representation), checked against
 * the distribution as FrozenTrial._validate does. */
static int internal_value(const dist_info *di, const cJSON *value, double *out, char *why, size_t whylen)
{
    if (di->kind == DIST_CATEGORICAL) {
        int idx = 0;
        for (const cJSON *c = di->choices->child; c; c = c->next, idx++)
            if (same_choice(c, value)) {
                *out = idx;
                return 0;
            }
        char *text = py_dumps(value, NUM_AS_IS);
        snprintf(why, whylen, "%s is not one of the choices", text);
        free(text);
        return -1;
    }
    double v;
    if (item_number(value, &v) != 0 || !isfinite(v)) {
        snprintf(why, whylen, "the value is not a finite number");
        return -1;
    }
    int ok = v >= di->low && v <= di->high;
    if (di->kind == DIST_INT) {
        ok = ok && v == floor(v) && fmod(v - di->low, di->step) == 0;
    } else if (di->step > 0) {
        double k = (v - di->low) / di->step;
        ok = ok && fabs(k - round(k)) < 1.0e-8;
    }
    if (!ok) {
        char tmp[48];
        py_repr(tmp, sizeof tmp, v);
        snprintf(why, whylen, "the value %s is outside its distribution", tmp);
        return -1;
    }
    *out = v;
    return 0;
}

/* The distribution_json text: name first, then the attributes in their order. */
static char *dist_json(const cJSON *d, const dist_info *di)
{
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_puts(&b, "{\"name\": ");
    dump_string(&b, cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring);
    sr_buf_puts(&b, ", \"attributes\": ");
    dump_json(&b, di->attrs, di->kind == DIST_FLOAT ? NUM_FLOAT : di->kind == DIST_INT ? NUM_INT : NUM_AS_IS);
    sr_buf_puts(&b, "}");
    return sr_buf_steal(&b);
}

/* ---------------------------------------------------------------------------
 * Distribution builders
 * ------------------------------------------------------------------------- */

cJSON *sr_synth_optuna_pyfloat(double v)
{
    char tmp[48];
    if (isnan(v))
        snprintf(tmp, sizeof tmp, "NaN");
    else if (isinf(v))
        snprintf(tmp, sizeof tmp, "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        py_repr(tmp, sizeof tmp, v);
    return cJSON_CreateRaw(tmp);
}

static cJSON *new_dist(const char *name, cJSON **attrs)
{
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", name);
    *attrs = cJSON_AddObjectToObject(d, "attributes");
    return d;
}

cJSON *sr_synth_optuna_float_dist(double low, double high, int log)
{
    cJSON *a, *d = new_dist("FloatDistribution", &a);
    cJSON_AddNullToObject(a, "step");
    cJSON_AddItemToObject(a, "low", sr_synth_optuna_pyfloat(low));
    cJSON_AddItemToObject(a, "high", sr_synth_optuna_pyfloat(high));
    cJSON_AddBoolToObject(a, "log", log != 0);
    return d;
}

cJSON *sr_synth_optuna_int_dist(long long low, long long high, long long step)
{
    cJSON *a, *d = new_dist("IntDistribution", &a);
    cJSON_AddFalseToObject(a, "log");
    cJSON_AddNumberToObject(a, "step", (double)step);
    cJSON_AddNumberToObject(a, "low", (double)low);
    cJSON_AddNumberToObject(a, "high", (double)high);
    return d;
}

cJSON *sr_synth_optuna_categorical_dist(const cJSON *choices)
{
    cJSON *a, *d = new_dist("CategoricalDistribution", &a);
    cJSON *c = choices ? cJSON_Duplicate(choices, 1) : NULL;
    cJSON_AddItemToObject(a, "choices", c ? c : cJSON_CreateArray());
    return d;
}

void sr_synth_optuna_add_categorical(cJSON *dists, const char *name, cJSON *choices)
{
    cJSON_AddItemToObject(dists, name, sr_synth_optuna_categorical_dist(choices));
    cJSON_Delete(choices);
}

cJSON *sr_synth_optuna_float_choices(const double *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, sr_synth_optuna_pyfloat(v[i]));
    return a;
}

/* ---------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------- */

/* "YYYY-MM-DD HH:MM:SS" (or ISO's "T" for the space) with an optional
 * ".ffffff". */
static int valid_datetime(const char *s)
{
    static const char pat[] = "dddd-dd-dd dd:dd:dd";
    size_t n = strlen(s);
    if (n != 19 && n != 26)
        return 0;
    for (size_t i = 0; i < 19; i++)
        if (pat[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != pat[i] && !(i == 10 && s[i] == 'T'))
            return 0;
    if (n == 26) {
        if (s[19] != '.')
            return 0;
        for (size_t i = 20; i < 26; i++)
            if (!isdigit((unsigned char)s[i]))
                return 0;
    }
    return 1;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int check_trial(const sr_synth_optuna_trial *t, char *why, size_t whylen)
{
    static const char *const states[] = {"COMPLETE", "PRUNED", "FAIL", "RUNNING"};
    int known = 0;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        known |= t->state && strcmp(t->state, states[i]) == 0;
    if (!known) {
        snprintf(why, whylen, "unknown state '%s'", t->state ? t->state : "(null)");
        return -1;
    }
    int running = strcmp(t->state, "RUNNING") == 0;
    if (t->number < 0) {
        snprintf(why, whylen, "negative number");
        return -1;
    }
    if (!t->datetime_start || !valid_datetime(t->datetime_start)) {
        snprintf(why, whylen, "datetime_start must be \"YYYY-MM-DD HH:MM:SS[.ffffff]\" (or with T)");
        return -1;
    }
    if (running && t->datetime_complete) {
        snprintf(why, whylen, "a running trial has no datetime_complete");
        return -1;
    }
    if (!running && (!t->datetime_complete || !valid_datetime(t->datetime_complete))) {
        snprintf(why, whylen, "a finished trial needs datetime_complete \"YYYY-MM-DD HH:MM:SS[.ffffff]\"");
        return -1;
    }
    if (strcmp(t->state, "COMPLETE") == 0 && !t->has_value) {
        snprintf(why, whylen, "a complete trial needs a value");
        return -1;
    }
    if (t->has_value && isnan(t->value)) {
        snprintf(why, whylen, "the value is NaN");
        return -1;
    }
    if (t->n_intermediate < 0 || (t->n_intermediate > 0 && !t->intermediate)) {
        snprintf(why, whylen, "bad intermediate values");
        return -1;
    }
    if ((t->params && !cJSON_IsObject(t->params)) || (t->distributions && !cJSON_IsObject(t->distributions)) ||
        (t->user_attrs && !cJSON_IsObject(t->user_attrs))) {
        snprintf(why, whylen, "params, distributions and user_attrs must be JSON objects");
        return -1;
    }
    if (t->distributions)
        for (const cJSON *d = t->distributions->child; d; d = d->next)
            if (!cJSON_GetObjectItemCaseSensitive(t->params, d->string)) {
                snprintf(why, whylen, "distribution '%s' has no parameter", d->string);
                return -1;
            }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------- */

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *trial, *param, *value, *inter, *uattr;
    long long param_id, value_id, inter_id, uattr_id;
} writer;

static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void bind_float_typed(sqlite3_stmt *st, int col_value, int col_type, double v, int allow_nan)
{
    if (isfinite(v)) {
        sqlite3_bind_double(st, col_value, v);
        sqlite3_bind_text(st, col_type, "FINITE", -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, col_value);
        sqlite3_bind_text(st, col_type, isnan(v) && allow_nan ? "NAN" : v > 0 ? "INF_POS" : "INF_NEG", -1,
                          SQLITE_STATIC);
    }
}

/* As SQLAlchemy stores a DATETIME in SQLite: "YYYY-MM-DD HH:MM:SS.ffffff". */
static void bind_datetime(sqlite3_stmt *st, int col, const char *when)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%s%s", when, strlen(when) == 19 ? ".000000" : "");
    buf[10] = ' ';
    sqlite3_bind_text(st, col, buf, -1, SQLITE_TRANSIENT);
}

static int write_trial(writer *w, const sr_synth_optuna_trial *t, long long trial_id, char *why, size_t whylen)
{
    sqlite3_bind_int64(w->trial, 1, trial_id);
    sqlite3_bind_int(w->trial, 2, t->number);
    sqlite3_bind_text(w->trial, 3, t->state, -1, SQLITE_STATIC);
    bind_datetime(w->trial, 4, t->datetime_start);
    if (t->datetime_complete)
        bind_datetime(w->trial, 5, t->datetime_complete);
    else
        sqlite3_bind_null(w->trial, 5);
    if (step_reset(w->trial) != 0)
        goto sql_error;

    if (t->params) {
        for (const cJSON *p = t->params->child; p; p = p->next) {
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(t->distributions, p->string);
            if (!d) {
                snprintf(why, whylen, "parameter '%s' has no distribution", p->string);
                return -1;
            }
            dist_info di;
            double v;
            char sub[200];
            if (parse_dist(d, &di, sub, sizeof sub) != 0 || internal_value(&di, p, &v, sub, sizeof sub) != 0) {
                snprintf(why, whylen, "parameter '%s': %s", p->string, sub);
                return -1;
            }
            char *dj = dist_json(d, &di);
            sqlite3_bind_int64(w->param, 1, ++w->param_id);
            sqlite3_bind_int64(w->param, 2, trial_id);
            sqlite3_bind_text(w->param, 3, p->string, -1, SQLITE_STATIC);
            sqlite3_bind_double(w->param, 4, v);
            sqlite3_bind_text(w->param, 5, dj, -1, SQLITE_TRANSIENT);
            free(dj);
            if (step_reset(w->param) != 0)
                goto sql_error;
        }
    }

    if (t->has_value) {
        sqlite3_bind_int64(w->value, 1, ++w->value_id);
        sqlite3_bind_int64(w->value, 2, trial_id);
        bind_float_typed(w->value, 3, 4, t->value, 0);
        if (step_reset(w->value) != 0)
            goto sql_error;
    }

    for (int i = 0; i < t->n_intermediate; i++) {
        sqlite3_bind_int64(w->inter, 1, ++w->inter_id);
        sqlite3_bind_int64(w->inter, 2, trial_id);
        sqlite3_bind_int(w->inter, 3, i + 1);
        bind_float_typed(w->inter, 4, 5, t->intermediate[i], 1);
        if (step_reset(w->inter) != 0)
            goto sql_error;
    }

    if (t->user_attrs) {
        for (const cJSON *a = t->user_attrs->child; a; a = a->next) {
            char *vj = py_dumps(a, NUM_AS_IS);
            sqlite3_bind_int64(w->uattr, 1, ++w->uattr_id);
            sqlite3_bind_int64(w->uattr, 2, trial_id);
            sqlite3_bind_text(w->uattr, 3, a->string, -1, SQLITE_STATIC);
            sqlite3_bind_text(w->uattr, 4, vj, -1, SQLITE_TRANSIENT);
            free(vj);
            if (step_reset(w->uattr) != 0)
                goto sql_error;
        }
    }
    return 0;

sql_error:
    snprintf(why, whylen, "%s", sqlite3_errmsg(w->db));
    return -1;
}

static int exec_sql(sqlite3 *db, const char *sql, char *why, size_t whylen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(why, whylen, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *why, size_t whylen)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        snprintf(why, whylen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

/* Schema, fixed rows and trials into an open, empty database. */
static int fill_db(writer *w, const char *study_name, const char *direction, const sr_synth_optuna_trial *trials,
                   size_t n, char *why, size_t whylen)
{
    sqlite3 *db = w->db;
    /* A fixed layout and no side files: the result depends only on the input. */
    if (exec_sql(db,
                 "PRAGMA page_size=4096; PRAGMA auto_vacuum=NONE; PRAGMA encoding='UTF-8';"
                 "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;",
                 why, whylen) != 0 ||
        exec_sql(db, "BEGIN", why, whylen) != 0)
        return -1;
    for (size_t i = 0; i < sizeof schema_ddl / sizeof schema_ddl[0]; i++)
        if (exec_sql(db, schema_ddl[i], why, whylen) != 0)
            return -1;

    char *fixed = sqlite3_mprintf("INSERT INTO alembic_version (version_num) VALUES (%Q);"
                                  "INSERT INTO version_info (version_info_id, schema_version, library_version) "
                                  "VALUES (1, %d, %Q);"
                                  "INSERT INTO studies (study_id, study_name) VALUES (1, %Q);"
                                  "INSERT INTO study_directions (study_direction_id, direction, study_id, objective) "
                                  "VALUES (1, %Q, 1, 0);",
                                  SR_OPTUNA_ALEMBIC_VERSION, SR_OPTUNA_SCHEMA_VERSION, SR_OPTUNA_LIBRARY_VERSION,
                                  study_name, direction);
    int rc = exec_sql(db, fixed, why, whylen);
    sqlite3_free(fixed);
    if (rc != 0)
        return -1;

    if (prepare(db,
                "INSERT INTO trials (trial_id, number, study_id, state, datetime_start, datetime_complete) "
                "VALUES (?1, ?2, 1, ?3, ?4, ?5)",
                &w->trial, why, whylen) != 0 ||
        prepare(db,
                "INSERT INTO trial_params (param_id, trial_id, param_name, param_value, distribution_json) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
                &w->param, why, whylen) != 0 ||
        prepare(db,
                "INSERT INTO trial_values (trial_value_id, trial_id, objective, value, value_type) "
                "VALUES (?1, ?2, 0, ?3, ?4)",
                &w->value, why, whylen) != 0 ||
        prepare(db,
                "INSERT INTO trial_intermediate_values (trial_intermediate_value_id, trial_id, step, "
                "intermediate_value, intermediate_value_type) VALUES (?1, ?2, ?3, ?4, ?5)",
                &w->inter, why, whylen) != 0 ||
        prepare(db,
                "INSERT INTO trial_user_attributes (trial_user_attribute_id, trial_id, \"key\", value_json) "
                "VALUES (?1, ?2, ?3, ?4)",
                &w->uattr, why, whylen) != 0)
        return -1;

    for (size_t i = 0; i < n; i++) {
        char sub[320];
        if (write_trial(w, &trials[i], (long long)i + 1, sub, sizeof sub) != 0) {
            snprintf(why, whylen, "trial %d: %s", trials[i].number, sub);
            return -1;
        }
    }
    return exec_sql(db, "COMMIT", why, whylen);
}

int sr_synth_write_optuna(const char *db_path, const char *study_name, const char *direction,
                          const sr_synth_optuna_trial *trials, size_t n, char *err, size_t errlen)
{
    char why[400];
    const char *dir = NULL;
    if (direction && strcasecmp(direction, "minimize") == 0)
        dir = "MINIMIZE";
    else if (direction && strcasecmp(direction, "maximize") == 0)
        dir = "MAXIMIZE";
    if (!dir) {
        snprintf(err, errlen, "%s: the direction must be minimize or maximize", db_path);
        return -1;
    }
    if (!study_name || !*study_name) {
        snprintf(err, errlen, "%s: the study needs a name", db_path);
        return -1;
    }
    if (n > 0 && !trials) {
        snprintf(err, errlen, "%s: no trials given", db_path);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_trial(&trials[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "%s: trial %d: %s", db_path, trials[i].number, why);
            return -1;
        }
    }
    if (n > 1) {
        int *nums = xmalloc(n * sizeof *nums);
        for (size_t i = 0; i < n; i++)
            nums[i] = trials[i].number;
        qsort(nums, n, sizeof *nums, cmp_int);
        int dup = -1;
        for (size_t i = 1; i < n && dup < 0; i++)
            if (nums[i] == nums[i - 1])
                dup = nums[i];
        free(nums);
        if (dup >= 0) {
            snprintf(err, errlen, "%s: trial number %d appears twice", db_path, dup);
            return -1;
        }
    }

    sr_atomic_file af;
    if (sr_atomic_open(&af, db_path, SR_ATOMIC_REPLACE) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", db_path, strerror(errno));
        return -1;
    }
    writer w;
    memset(&w, 0, sizeof w);
    int rc = -1;
    if (sqlite3_open_v2(af.tmp_path, &w.db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        snprintf(why, sizeof why, "%s", w.db ? sqlite3_errmsg(w.db) : "out of memory");
    else
        rc = fill_db(&w, study_name, dir, trials, n, why, sizeof why);
    sqlite3_finalize(w.trial);
    sqlite3_finalize(w.param);
    sqlite3_finalize(w.value);
    sqlite3_finalize(w.inter);
    sqlite3_finalize(w.uattr);
    if (sqlite3_close(w.db) != SQLITE_OK && rc == 0) {
        snprintf(why, sizeof why, "%s", sqlite3_errmsg(w.db));
        rc = -1;
    }
    if (rc != 0) {
        sr_atomic_abort(&af);
        snprintf(err, errlen, "%s: %s", db_path, why);
        return -1;
    }
    if (sr_atomic_commit(&af) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", db_path, strerror(errno));
        return -1;
    }
    return 0;
}
