/* SPDX-License-Identifier: Apache-2.0 */
/* Log-linear latency histogram: exact below 256 ns, then 128 linear buckets
 * per power of two, so any recorded value is known within 0.8%. */
#ifndef FG_HIST_H
#define FG_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 8
#define HIST_MAX_BITS 40	/* about 1100 s; larger values are clamped */
#define HIST_BUCKETS ((1u << HIST_SUB_BITS) + (HIST_MAX_BITS - HIST_SUB_BITS) * \
		      (1u << (HIST_SUB_BITS - 1)))

struct fg_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns, max_ns;	/* exact */
	uint32_t buckets[HIST_BUCKETS];
};

void hist_init(struct fg_hist *h);
void hist_record(struct fg_hist *h, uint64_t ns);
/** hist_merge() - add @src into @dst. */
void hist_merge(struct fg_hist *dst, const struct fg_hist *src);
/**
 * hist_quantile() - the value at quantile @q (0..1), as the midpoint of its
 * bucket, clamped to [min, max]. 0 when empty.
 */
uint64_t hist_quantile(const struct fg_hist *h, double q);
double hist_mean_ns(const struct fg_hist *h);

#endif
