/* num_format.h - numbers in table columns that line up.
 *
 * A column's numbers share one number of decimals, as many as give its
 * largest magnitude 4 significant digits (whole numbers get none):
 * 0.1000 0.1018 0.1220 rather than 0.1 0.1018 0.122.  A column whose
 * magnitudes are very large, very small or too far apart for that keeps
 * %.4g per value. */
#ifndef SR_NUM_FORMAT_H
#define SR_NUM_FORMAT_H

#include <stddef.h>

/* The decimals of a column of n values (NaN and infinities aside), or -1
 * for %.4g per value (also when no value is finite). */
int sr_column_decimals(const double *v, size_t n);

/* v written with the column's decimals (>= 0) into buf: "-0" never, and a
 * value those decimals would show as zero although it is not is written
 * with an exponent instead. */
void sr_format_in_column(double v, int decimals, char *buf, size_t len);

/* Finite v in the fewest significant digits (15, 16 or 17) that read back
 * as v itself: for records that keep a number whole. */
void sr_format_exact(double v, char *buf, size_t len);

#endif
