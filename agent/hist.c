// SPDX-License-Identifier: Apache-2.0
/* Log-linear latency histogram. Values below 2^HIST_SUB_BITS ns have a bucket
 * each; above, every power of two [2^b, 2^(b+1)) is cut into 128 equal
 * buckets, so a bucket is never wider than 1/128 of its lower bound. */
#include <string.h>

#include "hist.h"

#define SUB_COUNT (1u << (HIST_SUB_BITS - 1))	/* buckets per power of two */
#define EXACT_LIMIT (1ull << HIST_SUB_BITS)
#define VALUE_LIMIT ((1ull << HIST_MAX_BITS) - 1)

static unsigned bucket_of(uint64_t ns)
{
	unsigned msb, shift;

	if (ns < EXACT_LIMIT)
		return (unsigned)ns;
	if (ns > VALUE_LIMIT)
		ns = VALUE_LIMIT;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	/* Keep the HIST_SUB_BITS leading bits; the top one is always set. */
	shift = msb - (HIST_SUB_BITS - 1);
	return (unsigned)EXACT_LIMIT + (msb - HIST_SUB_BITS) * SUB_COUNT +
	       (unsigned)((ns >> shift) & (SUB_COUNT - 1));
}

/* Lower bound and width of bucket @i. */
static void bucket_range(unsigned i, uint64_t *ret_lo, uint64_t *ret_width)
{
	unsigned group, sub, shift;

	if (i < EXACT_LIMIT) {
		*ret_lo = i;
		*ret_width = 1;
		return;
	}
	group = (i - (unsigned)EXACT_LIMIT) / SUB_COUNT;
	sub = (i - (unsigned)EXACT_LIMIT) % SUB_COUNT;
	shift = group + 1;
	*ret_lo = (uint64_t)(SUB_COUNT + sub) << shift;
	*ret_width = 1ull << shift;
}

void hist_init(struct fg_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_record(struct fg_hist *h, uint64_t ns)
{
	if (h->count == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->count++;
	h->sum_ns += ns;
	h->buckets[bucket_of(ns)]++;
}

void hist_merge(struct fg_hist *dst, const struct fg_hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

uint64_t hist_quantile(const struct fg_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, width, v;

	if (h->count == 0)
		return 0;
	if (!(q > 0.0))
		return h->min_ns;
	if (q >= 1.0)
		return h->max_ns;
	/* Nearest rank: the smallest value with at least q * count at or
	 * below it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		bucket_range(i, &lo, &width);
		v = lo + width / 2;
		if (v < h->min_ns)
			v = h->min_ns;
		if (v > h->max_ns)
			v = h->max_ns;
		return v;
	}
	return h->max_ns;
}

double hist_mean_ns(const struct fg_hist *h)
{
	if (h->count == 0)
		return 0.0;
	return (double)h->sum_ns / (double)h->count;
}
