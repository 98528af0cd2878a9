// SPDX-License-Identifier: Apache-2.0
/* Live progress line for a run on a terminal. */
#include <stdio.h>
#include <unistd.h>

#include "progress.h"
#include "units.h"

void progress_init(struct progress *p, FILE *out, bool want)
{
	p->out = out;
	p->on = want && isatty(fileno(out));
	p->shown = false;
	p->width = 0;
}

void progress_update(struct progress *p, const struct progress_state *s)
{
	char line[160], rss[32];
	int n, m = 0;

	if (!p->on)
		return;
	n = snprintf(line, sizeof(line), "%s, %.1fs left", s->phase,
		     s->left_s < 0 ? 0 : s->left_s);
	if (s->has_load && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			      " | %.0f req/s, p99 %.1fms, %llu errors/s",
			      s->rps, s->p99_ms, (unsigned long long)s->errors);
	if (s->has_vitals && n > 0 && (size_t)n < sizeof(line))
		n += snprintf(
		    line + n, sizeof(line) - (size_t)n, " | rss %s, %u threads",
		    fg_format_size((double)s->rss_bytes, rss, sizeof(rss)),
		    s->threads);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* Pad with blanks so a shorter line hides the end of a longer one. */
	if (p->width > n)
		m = p->width - n;
	fprintf(p->out, "\r%s%*s", line, m, "");
	fflush(p->out);
	p->width = n;
	p->shown = true;
}

void progress_clear(struct progress *p)
{
	if (!p->on || !p->shown)
		return;
	fprintf(p->out, "\r%*s\r", p->width, "");
	fflush(p->out);
	p->shown = false;
	p->width = 0;
}
