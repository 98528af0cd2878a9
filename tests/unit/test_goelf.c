// SPDX-License-Identifier: Apache-2.0
/* Go binary analysis: the victims built by the test suite in four shapes
 * (static, stripped, PIE, cgo), checked against `go tool nm`; synthetic
 * pclntab headers for the layouts this toolchain cannot produce, and the
 * pre-1.18 build info form. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gocall.h"
#include "goelf.h"
#include "goruntime.h"

#define VICTIMS FG_BINARY_DIR "/victims/"

struct shape {
	const char *file;
	bool stripped, pie, cgo;
};

static const struct shape shapes[] = {
	{ VICTIMS "fg-gosvc", false, false, false },
	{ VICTIMS "fg-gosvc-strip", true, false, false },
	{ VICTIMS "fg-gosvc-pie", false, true, false },
	{ VICTIMS "fg-gosvc-cgo", false, false, true },
};

static struct goelf *open_victim(const char *name)
{
	struct goelf *g = NULL;
	int r = goelf_open(name, &g);

	ck_assert_msg(r == 0, "goelf_open %s: %d", name, r);
	return g;
}

START_TEST(goelf_shapes)
{
	const struct shape *s = &shapes[_i];
	struct goelf *g = open_victim(s->file);
	const struct goelf_func *f;
	uint64_t a;

	ck_assert(g->is_go);
	ck_assert_msg(strncmp(g->version, "go1.", 4) == 0, "version '%s'", g->version);
	ck_assert_int_eq(g->go_major, 1);
	ck_assert_int_ge(g->go_minor, 16);
	ck_assert_int_eq(g->stripped, s->stripped);
	ck_assert_int_eq(g->pie, s->pie);
	ck_assert_msg(g->cgo == s->cgo, "%s: cgo %d", s->file, g->cgo);
	ck_assert_uint_ne(g->pcln_magic, 0);
	ck_assert_uint_gt(g->n_funcs, 1000);

	f = goelf_func_named(g, "runtime.debugCallV2");
	ck_assert_ptr_nonnull(f);
	ck_assert(f->flag & GOELF_FUNC_ASM);
	ck_assert_ptr_nonnull(goelf_func_named(g, "debugCall32"));
	ck_assert_ptr_nonnull(goelf_func_named(g, "runtime.debugCallPanicked"));
	f = goelf_func_named(g, "runtime.GOMAXPROCS");
	ck_assert_ptr_nonnull(f);
	ck_assert(!(f->flag & GOELF_FUNC_ASM));
	ck_assert_ptr_eq(goelf_func_at(g, f->entry + 3), f);
	ck_assert_ptr_eq(goelf_func_at(g, f->end - 1), f);
	ck_assert_ptr_nonnull(goelf_func_named(g, "main.main"));
	ck_assert_ptr_null(goelf_func_at(g, 16));

	ck_assert_int_eq(goelf_symbol(g, "runtime.gomaxprocs", &a, NULL),
			 s->stripped ? -ENOENT : 0);
	goelf_free(g);
}
END_TEST

/* Whether the table has @name at @addr. The pclntab names an assembly
 * function and its ABIInternal wrapper alike; nm adds ".abi0" to the first. */
static bool table_has(const struct goelf *g, const char *name, uint64_t addr, bool *named)
{
	size_t nl = strlen(name);

	if (nl > 5 && strcmp(name + nl - 5, ".abi0") == 0)
		nl -= 5;
	for (size_t i = 0; i < g->n_funcs; i++) {
		if (strncmp(g->funcs[i].name, name, nl) != 0 || g->funcs[i].name[nl])
			continue;
		*named = true;
		if (g->funcs[i].entry == addr)
			return true;
	}
	return false;
}

/* Every text symbol `go tool nm` prints for the binary that the pclntab
 * knows by name has the address our table gives it. */
static void compare_with_nm(const char *file)
{
	char cmd[1024], line[1024];
	struct goelf *g = open_victim(file);
	size_t seen = 0, match = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s tool nm %s 2>/dev/null", FG_GO, file);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p)) {
		unsigned long long addr;
		char type, name[900];
		bool named = false, ok;

		if (sscanf(line, "%llx %c %899s", &addr, &type, name) != 3 ||
		    (type != 'T' && type != 't'))
			continue;
		ok = table_has(g, name, addr, &named);
		if (!named)
			continue;
		seen++;
		if (ok)
			match++;
		else
			ck_abort_msg("%s: %s at %llx, not in the table", file, name, addr);
	}
	pclose(p);
	ck_assert_msg(seen > 1000, "%s: only %zu names in common with nm", file, seen);
	ck_assert_uint_eq(seen, match);
	goelf_free(g);
}

START_TEST(goelf_matches_nm)
{
	compare_with_nm(VICTIMS "fg-gosvc");
	compare_with_nm(VICTIMS "fg-gosvc-pie");
	compare_with_nm(VICTIMS "fg-gosvc-cgo");
}
END_TEST

/* The stripped build has the same functions as the static one (same code,
 * only the symbol table and DWARF dropped). */
START_TEST(goelf_stripped_same_table)
{
	struct goelf *a = open_victim(VICTIMS "fg-gosvc");
	struct goelf *b = open_victim(VICTIMS "fg-gosvc-strip");

	ck_assert_uint_eq(a->n_funcs, b->n_funcs);
	for (size_t i = 0; i < a->n_funcs; i++) {
		ck_assert_str_eq(a->funcs[i].name, b->funcs[i].name);
		ck_assert_uint_eq(a->funcs[i].flag, b->funcs[i].flag);
	}
	goelf_free(a);
	goelf_free(b);
}
END_TEST

START_TEST(goelf_pie_load_bias)
{
	struct goelf *g = open_victim(VICTIMS "fg-gosvc-pie");
	const struct goelf_func *f = goelf_func_named(g, "main.main");
	char path[64], line[512];
	uint64_t bias = 0, pc;
	bool in_text = false;
	FILE *m;
	pid_t pid;
	int r = -1;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(VICTIMS "fg-gosvc-pie", "fg-gosvc-pie", "-addr", "127.0.0.1:0",
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && r < 0; i++) {
		usleep(20000);
		r = goelf_load_bias(g, pid, &bias);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_ne(bias, 0);
	pc = f->entry + bias;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	m = fopen(path, "r");
	ck_assert_ptr_nonnull(m);
	while (fgets(line, sizeof(line), m)) {
		unsigned long long lo, hi;
		char perm[8];

		if (sscanf(line, "%llx-%llx %7s", &lo, &hi, perm) == 3 && pc >= lo &&
		    pc < hi && perm[2] == 'x')
			in_text = true;
	}
	fclose(m);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert_msg(in_text, "main.main + bias %llx is not in an executable mapping",
		      (unsigned long long)pc);
	goelf_free(g);
}
END_TEST

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* A two-function table in the layout of @magic; @minor picks 1.16/1.17. */
static size_t synth_pclntab(uint8_t *b, uint32_t magic, int minor)
{
	bool ts = magic != GOELF_PCLN_116;
	unsigned hw = ts ? 32 : 24, esz = ts ? 8 : 16, noff = ts ? 4 : 8;
	unsigned flag_off = magic == GOELF_PCLN_118 ? 37 : 41;
	uint64_t names = 0x100, ftab = 0x200;
	uint64_t funcs = ftab + 3 * esz;

	memset(b, 0, 0x400);
	put32(b, magic);
	b[6] = 1;
	b[7] = 8;
	put64(b + 8, 2);
	if (ts)
		put64(b + 24, 0x401000);
	put64(b + hw, names);
	put64(b + hw + 32, ftab);
	memcpy(b + names, "\0main.b\0main.a\0", 15);
	for (unsigned i = 0; i < 3; i++) {
		uint8_t *e = b + ftab + i * esz;
		uint64_t entry = 0x401000 + 0x40 * i, foff = funcs - ftab + 64 * (i % 2);

		if (ts) {
			put32(e, (uint32_t)(entry - 0x401000));
			put32(e + 4, (uint32_t)foff);
		} else {
			put64(e, entry);
			put64(e + 8, foff);
		}
	}
	/* _func 0 is main.a (asm), _func 1 main.b */
	put32(b + funcs + noff, 8);
	b[funcs + flag_off] = GOELF_FUNC_ASM;
	put32(b + funcs + 64 + noff, 1);
	(void)minor;
	return 0x400;
}

START_TEST(goelf_synthetic_headers)
{
	static const struct {
		uint32_t magic;
		int minor;
		bool flag;
	} v[] = {
		{ GOELF_PCLN_116, 16, false },
		{ GOELF_PCLN_116, 17, true },
		{ GOELF_PCLN_118, 18, true },
		{ GOELF_PCLN_120, 21, true },
	};
	uint8_t b[0x400];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct goelf_func *f = NULL;
		size_t n = 0, len = synth_pclntab(b, v[i].magic, v[i].minor);
		uint64_t ts = 0;

		ck_assert_int_eq(goelf_pclntab_parse(b, len, v[i].minor, 0, &f, &n, &ts), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_str_eq(f[0].name, "main.a");
		ck_assert_str_eq(f[1].name, "main.b");
		ck_assert_uint_eq(f[0].entry, 0x401000);
		ck_assert_uint_eq(f[0].end, 0x401040);
		ck_assert_uint_eq(f[1].end, 0x401080);
		ck_assert_int_eq(!!(f[0].flag & GOELF_FUNC_ASM), v[i].flag);
		ck_assert_uint_eq(f[1].flag, 0);
		free(f);
	}
	b[7] = 4;
	{
		struct goelf_func *f = NULL;
		size_t n;

		ck_assert_int_eq(goelf_pclntab_parse(b, 0x400, 21, 0, &f, &n, NULL), -EINVAL);
	}
}
END_TEST

/* Pre-1.18 build info: the header points at a string header. */
static uint8_t fake_mem[64];

static int fake_read(void *ctx, uint64_t vaddr, void *buf, size_t len)
{
	(void)ctx;
	if (vaddr < 0x1000 || vaddr - 0x1000 + len > sizeof(fake_mem))
		return -EFAULT;
	memcpy(buf, fake_mem + (vaddr - 0x1000), len);
	return 0;
}

START_TEST(goelf_buildinfo_both_forms)
{
	uint8_t blob[64] = "\xff Go buildinf:";
	char v[32];
	int maj, min;

	blob[14] = 8;
	blob[15] = 0;
	put64(blob + 16, 0x1000);
	put64(fake_mem, 0x1010);
	put64(fake_mem + 8, 8);
	memcpy(fake_mem + 0x10, "go1.16.4", 8);
	ck_assert_int_eq(goelf_buildinfo_version(blob, sizeof(blob), fake_read, NULL, v,
						 sizeof(v)), 0);
	ck_assert_str_eq(v, "go1.16.4");

	blob[15] = 2;
	blob[32] = 8;
	memcpy(blob + 33, "go1.19.8", 8);
	ck_assert_int_eq(goelf_buildinfo_version(blob, sizeof(blob), NULL, NULL, v,
						 sizeof(v)), 0);
	ck_assert_str_eq(v, "go1.19.8");
	blob[0] = 0;
	ck_assert_int_eq(goelf_buildinfo_version(blob, sizeof(blob), NULL, NULL, v,
						 sizeof(v)), -EINVAL);

	ck_assert_int_eq(goelf_parse_version("go1.19.8", &maj, &min), 0);
	ck_assert_int_eq(min, 19);
	ck_assert_int_eq(goelf_parse_version("devel go1.22-abc", &maj, &min), 0);
	ck_assert_int_eq(min, 22);
	ck_assert_int_eq(goelf_parse_version("gccgo", &maj, &min), -EINVAL);
}
END_TEST

START_TEST(goelf_not_go)
{
	struct goelf *g = NULL;

	ck_assert_int_eq(goelf_open("/bin/sh", &g), 0);
	ck_assert(!g->is_go);
	ck_assert_uint_eq(g->n_funcs, 0);
	goelf_free(g);
	ck_assert_int_eq(goelf_open("/etc/hostname", &g), -ENOEXEC);
}
END_TEST

START_TEST(gocall_deny_list)
{
	static const char *const denied[] = {
		"runtime.futex", "runtime/internal/syscall.Syscall6", "syscall.Syscall",
		"internal/poll.runtime_pollWait", "sync.runtime_Semacquire", "time.Sleep",
		"debugCall32", "_cgo_panic", "internal/runtime/syscall.Syscall6",
	};
	static const char *const allowed[] = {
		"main.main", "net/http.(*conn).serve", "main.spin", "internal/poll.(*FD).Read",
		"sync.(*Mutex).Lock",
	};

	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		ck_assert_msg(gocall_name_denied(denied[i]), "%s", denied[i]);
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ck_assert_msg(!gocall_name_denied(allowed[i]), "%s", allowed[i]);
}
END_TEST

/* The thread that ends a call keeps its own TLS bases; the rest (flags
 * included) is the saved copy. */
START_TEST(gocall_restore_keeps_fs_base)
{
	struct user_regs_struct saved, now, out;

	memset(&saved, 0x11, sizeof(saved));
	memset(&now, 0x22, sizeof(now));
	saved.eflags = 0x202;
	now.eflags = 0x206;
	gocall_restore_regs(&saved, &now, &out);
	ck_assert_uint_eq(out.fs_base, now.fs_base);
	ck_assert_uint_eq(out.gs_base, now.gs_base);
	ck_assert_uint_eq(out.eflags, 0x202);
	ck_assert_uint_eq(out.rip, saved.rip);
	ck_assert_uint_eq(out.r14, saved.r14);
}
END_TEST

/* RIP-relative operand decoding, as used on stripped binaries. */
START_TEST(goruntime_riprel_decode)
{
	/* movslq 0x4784b7(%rip),%rcx at 0x40700a; movq 0x100(%rip),%rsi */
	static const uint8_t code[] = { 0x90, 0x48, 0x63, 0x0d, 0xb7, 0x84, 0x47, 0x00,
					0x48, 0x8b, 0x35, 0x00, 0x01, 0x00, 0x00 };
	uint64_t t[2];

	ck_assert_uint_eq(goruntime_riprel(code, sizeof(code), 0x407009, 0x63, t, 2), 1);
	ck_assert_uint_eq(t[0], 0x407011 + 0x4784b7);
	ck_assert_uint_eq(goruntime_riprel(code, sizeof(code), 0x407009, 0x8b, t, 2), 1);
	ck_assert_uint_eq(t[0], 0x407009 + 15 + 0x100);
	ck_assert_int_eq(goruntime_status_offset(19), 0x90);
	ck_assert_int_eq(goruntime_status_offset(23), 0x98);
	ck_assert_int_eq(goruntime_status_offset(26), -1);
}
END_TEST

/* Stripped binaries: the decoded runtime.gomaxprocs address is the symbol's
 * address in the unstripped twin (same code, same layout). */
START_TEST(goruntime_decoded_matches_symbol)
{
	struct goelf *a = open_victim(VICTIMS "fg-gosvc");
	const struct goelf_func *f = goelf_func_named(a, "runtime.GOMAXPROCS");
	uint64_t sym, t[1];
	uint8_t code[256];

	ck_assert_int_eq(goelf_symbol(a, "runtime.gomaxprocs", &sym, NULL), 0);
	ck_assert_int_eq(goelf_read(a, f->entry, code, sizeof(code)), 0);
	ck_assert_uint_eq(goruntime_riprel(code, sizeof(code), f->entry, 0x63, t, 1), 1);
	ck_assert_uint_eq(t[0], sym);
	goelf_free(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("goelf");
	TCase *tc = tcase_create("goelf");
	SRunner *sr;
	int failed;

	if (access(VICTIMS "fg-gosvc", X_OK) != 0) {
		printf("# test_goelf: skipped: victims not built (%s)\n", VICTIMS);
		return 77;
	}
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, goelf_shapes, 0, sizeof(shapes) / sizeof(shapes[0]));
	tcase_add_test(tc, goelf_matches_nm);
	tcase_add_test(tc, goelf_stripped_same_table);
	tcase_add_test(tc, goelf_pie_load_bias);
	tcase_add_test(tc, goelf_synthetic_headers);
	tcase_add_test(tc, goelf_buildinfo_both_forms);
	tcase_add_test(tc, goelf_not_go);
	tcase_add_test(tc, gocall_deny_list);
	tcase_add_test(tc, gocall_restore_keeps_fs_base);
	tcase_add_test(tc, goruntime_riprel_decode);
	tcase_add_test(tc, goruntime_decoded_matches_symbol);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
