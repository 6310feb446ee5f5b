/* test_ckpt_name.c - every kohya checkpoint name form. */
#include "config.h"

#include "check_main.h"
#include "ckpt_name.h"
#include "kohya_samples.h"

#include <stdlib.h>
#include <string.h>

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

static const struct {
    const char *file;
    int valid;
    const char *output_name;
    long epoch;
    long step;
    int prompt;
} samples[] = {
    /* the current order, with and without output name and seed */
    {"lora_trial_1_e000002_00_20251115103000.png", 1, "lora_trial_1", 2, -1, 0},
    {"lora_trial_1_e000002_03_20251115103000_42.png", 1, "lora_trial_1", 2, -1, 3},
    {"e000000_01_20251115080000.png", 1, "", 0, -1, 1},
    {"lora_trial_1_001200_00_20251115103000.png", 1, "lora_trial_1", -1, 1200, 0},
    {"my_style_000600_12_20251115103000_1234.png", 1, "my_style", -1, 600, 12},
    /* the order used before mid-2024 */
    {"lora_trial_1_20251115103000_e000004_01.png", 1, "lora_trial_1", 4, -1, 1},
    {"lora_trial_1_20251115103000_e000004_01_7.png", 1, "lora_trial_1", 4, -1, 1},
    {"20251115103000_000300_00.png", 1, "", -1, 300, 0},
    /* not kohya sample names */
    {"sample_00.png", 0, NULL, -1, -1, 0},
    {"lora_e000002_00.png", 0, NULL, -1, -1, 0},
    {"lora_e000002_00_2025111510300.png", 0, NULL, -1, -1, 0},
    {"lora_e000002_00_20251115103000.jpg", 0, NULL, -1, -1, 0},
    {"lora_e00002_00_20251115103000.png", 0, NULL, -1, -1, 0},
};

START_TEST(test_kohya_sample)
{
    sr_kohya_sample k;
    int rc = sr_kohya_sample_parse(samples[_i].file, &k);
    if (!samples[_i].valid) {
        ck_assert_msg(rc == -1, "%s accepted", samples[_i].file);
        sr_kohya_sample_free(&k);
        return;
    }
    ck_assert_msg(rc == 0, "%s rejected", samples[_i].file);
    ck_assert_str_eq(k.output_name, samples[_i].output_name);
    ck_assert_int_eq(k.epoch, samples[_i].epoch);
    ck_assert_int_eq(k.step, samples[_i].step);
    ck_assert_int_eq(k.prompt, samples[_i].prompt);
    ck_assert_uint_eq(strlen(k.timestamp), 14);
    sr_kohya_sample_free(&k);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("ckpt_name");
    TCase *tc = tcase_create("names");
    tcase_add_loop_test(tc, test_name, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_stem);
    tcase_add_loop_test(tc, test_kohya_sample, 0, (int)(sizeof samples / sizeof samples[0]));
    suite_add_tcase(s, tc);
    return s;
}
