/* crc32c.h - CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the
 * checksum of TFRecord framing.
 *
 * The portable version uses slicing-by-8 tables; on x86-64 built with GCC or
 * Clang the SSE4.2 crc32 instruction is used instead when the processor has
 * it (checked at run time).  Both give the same results. */
#ifndef SR_CRC32C_H
#define SR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: crc is a finished CRC-32C of the data so far (0 for none).
 * sr_crc32c_update(sr_crc32c_update(0, a, na), b, nb) == CRC of a then b. */
uint32_t sr_crc32c_update(uint32_t crc, const void *data, size_t n);
/* CRC-32C of one buffer: "123456789" gives 0xE3069283. */
uint32_t sr_crc32c(const void *data, size_t n);

/* The table version alone, whatever the processor offers. */
uint32_t sr_crc32c_update_sw(uint32_t crc, const void *data, size_t n);
/* 1 when sr_crc32c_update uses the processor's instruction. */
int sr_crc32c_hw_available(void);

/* TFRecord's masked CRC: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t sr_crc32c_mask(uint32_t crc);

#endif
