/* test_ckpt_name.c - every kohya checkpoint name form. */
#include "config.h"

#include "check_main.h"
#include "ckpt_name.h"

#include <stdlib.h>

static const struct {
    const char *file;
    int valid;
    sr_ckpt_kind kind;
    const char *output_name;
    long epoch;
    long step;
} cases[] = {
    {"lora_trial_1-000002.safetensors", 1, SR_CKPT_EPOCH, "lora_trial_1", 2, -1},
    {"lora_trial_12-000150.safetensors", 1, SR_CKPT_EPOCH, "lora_trial_12", 150, -1},
    {"lora_trial_1.safetensors", 1, SR_CKPT_FINAL, "lora_trial_1", -1, -1},
    {"lora_trial_1-step00001200.safetensors", 1, SR_CKPT_STEP, "lora_trial_1", -1, 1200},
    {"epoch-000002.safetensors", 1, SR_CKPT_EPOCH, "epoch", 2, -1},
    {"at-step00001200.safetensors", 1, SR_CKPT_STEP, "at", -1, 1200},
    {"last.safetensors", 1, SR_CKPT_FINAL, "last", -1, -1},
    /* epochs past 999999 keep all their digits */
    {"x-1000000.safetensors", 1, SR_CKPT_EPOCH, "x", 1000000, -1},
    /* too few digits: an output name that ends in a number */
    {"style-v2-0003.safetensors", 1, SR_CKPT_FINAL, "style-v2-0003", -1, -1},
    {"x-step123.safetensors", 1, SR_CKPT_FINAL, "x-step123", -1, -1},
    /* names with spaces, dots and UTF-8 */
    {"my lora.v1 \xe2\x9c\x93-000004.safetensors", 1, SR_CKPT_EPOCH, "my lora.v1 \xe2\x9c\x93", 4, -1},
    {"-000002.safetensors", 1, SR_CKPT_FINAL, "-000002", -1, -1},
    {".safetensors", 0, 0, NULL, -1, -1},
    {"lora.ckpt", 0, 0, NULL, -1, -1},
    {"lora.safetensors.tmp", 0, 0, NULL, -1, -1},
    {"lora_trial_1-000002-state", 0, 0, NULL, -1, -1},
};

START_TEST(test_name)
{
    sr_ckpt_name n;
    int rc = sr_ckpt_parse_name(cases[_i].file, &n);
    if (!cases[_i].valid) {
        ck_assert_msg(rc == -1, "%s accepted", cases[_i].file);
        sr_ckpt_name_free(&n);
        return;
    }
    ck_assert_msg(rc == 0, "%s rejected", cases[_i].file);
    ck_assert_msg(n.kind == cases[_i].kind, "%s: kind %s", cases[_i].file, sr_ckpt_kind_name(n.kind));
    ck_assert_str_eq(n.output_name, cases[_i].output_name);
    ck_assert_int_eq(n.epoch, cases[_i].epoch);
    ck_assert_int_eq(n.step, cases[_i].step);
    sr_ckpt_name_free(&n);
}
END_TEST

START_TEST(test_stem)
{
    sr_ckpt_name n;
    ck_assert_int_eq(sr_ckpt_parse_name("lora_trial_5-000004.safetensors", &n), 0);
    ck_assert_str_eq(n.stem, "lora_trial_5-000004");
    sr_ckpt_name_free(&n);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("ckpt_name");
    TCase *tc = tcase_create("names");
    tcase_add_loop_test(tc, test_name, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_stem);
    suite_add_tcase(s, tc);
    return s;
}
