/* SPDX-License-Identifier: Apache-2.0 */
/* Reports: the console table, report.json and junit.xml of a run. */
#ifndef FG_REPORT_H
#define FG_REPORT_H

#include <stdio.h>

#include "results.h"

/**
 * report_fault_summary() - what fault @spec did, in the terms of its kind
 * ("GOMAXPROCS 2 -> 1 in 8ms, back to 2 in 6ms", "threads pinned 7"),
 * into @buf. Return: @buf.
 */
const char *report_fault_summary(const struct fault_spec *spec, const struct fault_result *f,
				 char *buf, size_t size);

/** report_console() - phases table, faults, gates and the verdict line. */
void report_console(const struct run_results *r, FILE *out);

/**
 * report_write_json() - @dir/report.json (the contract of docs/report.md).
 * Return: 0, or -errno from creating or writing the file.
 */
int report_write_json(const struct run_results *r, const char *dir);

/**
 * report_write_junit() - @dir/junit.xml: a testsuite, a testcase per gate.
 * Return: 0, or -errno from creating or writing the file.
 */
int report_write_junit(const struct run_results *r, const char *dir);

/**
 * report_write_html() - @dir/report.html: one self-contained page (inline
 * SVG and CSS, no script) with the timelines, fault windows, gates and plan.
 * Return: 0, -ENOMEM, or -errno from writing the file.
 */
int report_write_html(const struct run_results *r, const char *dir);

/**
 * report_write_file() - @len bytes of @data into @dir/@name, through a
 * temporary file in @dir and a rename, so readers never see half a report.
 * @dir and its parents are created when missing (mode 0755).
 * Return: 0, -ENOMEM, or -errno from mkdir, write, fsync or rename.
 */
int report_write_file(const char *dir, const char *name, const char *data, size_t len);

#endif
