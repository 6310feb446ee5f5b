/* ckpt_name.h - what a kohya checkpoint file name says.
 *
 * kohya sd-scripts names its files (library/train_util.py):
 *   {output_name}-{epoch:06d}.safetensors        every N epochs
 *   {output_name}-step{step:08d}.safetensors     every N steps
 *   {output_name}.safetensors                    the final model
 * and without --output_name: epoch-000002, at-step00001200, last. */
#ifndef SR_CKPT_NAME_H
#define SR_CKPT_NAME_H

typedef enum {
    SR_CKPT_EPOCH,
    SR_CKPT_STEP,
    SR_CKPT_FINAL
} sr_ckpt_kind;

typedef struct {
    sr_ckpt_kind kind;
    char *stem;         /* file name without ".safetensors" */
    char *output_name;  /* the part before the epoch or step suffix */
    long epoch;         /* from the name, or -1 */
    long step;          /* from the name, or -1 */
} sr_ckpt_name;

/* Returns 0 for a "*.safetensors" name (with something before the suffix),
 * -1 for any other name. */
int sr_ckpt_parse_name(const char *file, sr_ckpt_name *out);
void sr_ckpt_name_free(sr_ckpt_name *n);
const char *sr_ckpt_kind_name(sr_ckpt_kind k);

#endif
