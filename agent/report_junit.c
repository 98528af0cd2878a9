// SPDX-License-Identifier: Apache-2.0
/* junit.xml: one testsuite for the playbook, one testcase per gate, so CI
 * systems show each gate as a test. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "report.h"

/* @s as XML attribute or text content. Characters XML 1.0 cannot carry at
 * all (control characters other than tab, newline, return) become '?'. */
static void xml_put(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\'')
			fputs("&apos;", f);
		else if (c == '\n' || c == '\t')
			fprintf(f, "&#%u;", c);
		else if (c == '\r')
			fputs("&#13;", f);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', f);
		else
			fputc(c, f);
	}
}

static const char *suite_name(const struct run_results *r)
{
	return r->pb && r->pb->name ? r->pb->name : "playbook";
}

static void failure_message(const struct gate_result *g, char *buf, size_t size)
{
	const char *op = g->expr ? gate_op_text(g->expr->op) : "=";
	char v[32] = "?", b[32] = "?";

	if (!g->measured) {
		snprintf(buf, size, "not measured: %s", g->reason);
		return;
	}
	if (g->unit == METRIC_UNIT_BOOL) {
		snprintf(buf, size, "value %s against bound %s %s",
			 g->value >= 1 ? "yes" : "no", op, "yes");
		return;
	}
	metric_format(g->unit, g->value, v, sizeof(v));
	if (isfinite(g->bound))
		metric_format(g->unit, g->bound, b, sizeof(b));
	snprintf(buf, size, "value %s against bound %s %s", v, op, b);
}

static void write_case(FILE *f, const struct run_results *r,
		       const struct gate_result *g)
{
	char msg[256];

	fputs("    <testcase name=\"", f);
	xml_put(f, g->text);
	fputs("\" classname=\"faultgate.", f);
	xml_put(f, suite_name(r));
	fputs("\" time=\"0\"", f);
	if (g->pass) {
		fputs("/>\n", f);
		return;
	}
	failure_message(g, msg, sizeof(msg));
	fputs(">\n      <failure type=\"gate\" message=\"", f);
	xml_put(f, msg);
	fputs("\">", f);
	xml_put(f, g->reason[0] ? g->reason : msg);
	fputs("</failure>\n    </testcase>\n", f);
}

static void write_run_case(FILE *f, const struct run_results *r)
{
	const char *why =
	    r->verdict_reason[0] ? r->verdict_reason : verdict_name(r->verdict);

	fputs("    <testcase name=\"faultgate.run\" classname=\"faultgate.", f);
	xml_put(f, suite_name(r));
	fprintf(f, "\" time=\"%.3f\">\n      <failure type=\"%s\" message=\"",
		r->duration_s, verdict_name(r->verdict));
	xml_put(f, why);
	fputs("\">", f);
	xml_put(f, why);
	fputs("</failure>\n    </testcase>\n", f);
}

static void write_suite(FILE *f, const struct run_results *r)
{
	bool run_failed =
	    r->verdict == VERDICT_ABORTED || r->verdict == VERDICT_ERROR;
	size_t i, failures = run_failed ? 1 : 0;
	size_t tests = r->n_gates + failures;

	for (i = 0; i < r->n_gates; i++)
		if (!r->gates[i].pass)
			failures++;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f,
		"<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
		"time=\"%.3f\">\n",
		tests, failures, r->duration_s);
	fputs("  <testsuite name=\"", f);
	xml_put(f, suite_name(r));
	fprintf(f,
		"\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\" "
		"time=\"%.3f\"",
		tests, failures, r->duration_s);
	if (r->started_at[0]) {
		fputs(" timestamp=\"", f);
		xml_put(f, r->started_at);
		fputc('"', f);
	}
	fputs(">\n    <properties>\n      <property name=\"verdict\" value=\"",
	      f);
	xml_put(f, verdict_name(r->verdict));
	fputs("\"/>\n      <property name=\"playbook\" value=\"", f);
	xml_put(f, r->pb && r->pb->path ? r->pb->path : "");
	fputs("\"/>\n    </properties>\n", f);
	for (i = 0; i < r->n_gates; i++)
		write_case(f, r, &r->gates[i]);
	if (run_failed)
		write_run_case(f, r);
	fputs("  </testsuite>\n</testsuites>\n", f);
}

int report_write_junit(const struct run_results *r, const char *dir)
{
	fg_autofree char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ok;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	write_suite(f, r);
	ok = !ferror(f);
	if (fclose(f) != 0 || !ok)
		return -ENOMEM;
	return report_write_file(dir, "junit.xml", buf, len);
}
