/* synth_lora.h - writes kohya-style SD1.5 LoRA checkpoints (.safetensors).
 *
 * Module names and shapes are those kohya-ss/sd-scripts networks/lora.py
 * creates for Stable Diffusion 1.x: the Transformer2DModel blocks of the
 * U-Net (proj_in/proj_out as 1x1 convolutions, attn1, attn2, ff) and the
 * CLIP text encoder layers.  All tensors are F16.  The header is laid out as
 * the reference writer does: "__metadata__" first, tensors sorted by name,
 * contiguous data_offsets from 0, padded with spaces to a multiple of 8. */
#ifndef SR_SYNTH_LORA_H
#define SR_SYNTH_LORA_H

#include <stddef.h>
#include <stdint.h>

/* 192 U-Net modules (16 transformer blocks x 12) + 72 text encoder modules. */
#define SR_LORA_SD15_UNET_MODULES 192
#define SR_LORA_SD15_TE_MODULES 72
#define SR_LORA_SD15_MODULES (SR_LORA_SD15_UNET_MODULES + SR_LORA_SD15_TE_MODULES)

typedef struct {
    char name[96]; /* e.g. "lora_te_text_model_encoder_layers_0_mlp_fc1" */
    int in;        /* input features (channels for a conv) */
    int out;       /* output features */
    int conv;      /* 1 for a 1x1 convolution: shapes [r,in,1,1] and [out,r,1,1] */
} sr_lora_module;

/* Fills m (SR_LORA_SD15_MODULES entries, in network order). */
void sr_lora_sd15_modules(sr_lora_module *m);

typedef struct {
    const char *key;
    const char *value;
} sr_lora_meta;

typedef struct {
    int rank;
    double alpha;        /* network_alpha, stored in every .alpha tensor */
    uint64_t base_seed;  /* the trial's fixed base matrices */
    uint64_t noise_seed; /* this checkpoint's noise */
    double up_scale;     /* lora_up = up_scale * U_base + up_noise * N */
    double up_noise;
    const sr_lora_meta *meta; /* __metadata__ (written sorted by key) */
    size_t n_meta;
    double keep_fraction; /* 1: complete file; below 1: cut to this share of its bytes */
} sr_lora_spec;

/* Writes the checkpoint atomically.  lora_down ~ N(0, 1/sqrt(in)) from the
 * base seed (the same in every checkpoint of a trial).  Returns 0, or -1
 * with a one-line reason naming the file in err. */
int sr_lora_write(const char *path, const sr_lora_spec *spec, char *err, size_t errlen);

/* Size in bytes of the complete file sr_lora_write would produce. */
uint64_t sr_lora_file_size(const sr_lora_spec *spec);

/* IEEE 754 binary32 -> binary16, round to nearest even (overflow -> inf). */
uint16_t sr_f32_to_f16(float f);
float sr_f16_to_f32(uint16_t h);

#endif
