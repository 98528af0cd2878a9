// SPDX-License-Identifier: Apache-2.0
/* cgo-block: delay calls to named C functions, so that a cgo Go service
 * keeps an OS thread blocked in C for the length of the delay.
 *
 * The resolver functions (getaddrinfo, getnameinfo, gethostbyname,
 * gethostbyname_r) are ordinary exported wrappers. Any other name is only
 * known when the target starts, and a shared object cannot grow exported
 * symbols at run time; so for those names the shim rewrites, once, at
 * start-up, the GOT entries (JUMP_SLOT and GLOB_DAT relocations) that name
 * the symbol in every object already loaded, pointing them at a small
 * generated thunk. The thunk enters one common x86-64 stub that saves every
 * argument register (rdi rsi rdx rcx r8 r9, rax for variadic calls, r10,
 * xmm0-7), sleeps if an armed slot names the symbol, restores them and
 * jumps to the real function, which then returns straight to the caller:
 * no signature is needed and the return value is untouched. What this
 * cannot reach is listed in docs/KNOWN_ISSUES.md. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <netdb.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fault.h"
#include "shim.h"

#define CGO_KIND (1u << FAULT_CGO_BLOCK)
#define SYM_LEN 64
#define MAX_THUNKS (FG_CTL_MAX_FAULTS * FG_CTL_MAX_SYMBOLS)
#define THUNK_SIZE 32

/* Names served by the wrappers below; the GOT patcher leaves them alone. */
static const char *const wrapped[] = {
	"getaddrinfo",
	"getnameinfo",
	"gethostbyname",
	"gethostbyname_r",
};

/**
 * cgo_block_before() - the slow path before a call to @name: count it in
 * every armed cgo-block slot that names it and sleep the delay of those
 * whose probability fires. Only call when shim_idle() is false.
 */
static void cgo_block_before(const char *name)
{
	if (!shim_enter())
		return;
	for (int i = shim_slot_next(0, CGO_KIND); i >= 0; i = shim_slot_next(i + 1, CGO_KIND)) {
		struct fg_ctl_fault *f = shim_slot(i);
		uint32_t n = f->n_symbols < FG_CTL_MAX_SYMBOLS ? f->n_symbols : FG_CTL_MAX_SYMBOLS;
		bool named = false;

		for (uint32_t k = 0; k < n && !named; k++)
			named = strncmp(f->symbols[k], name, SYM_LEN) == 0;
		if (!named)
			continue;
		atomic_fetch_add_explicit(&f->seen, 1, memory_order_relaxed);
		if (shim_chance(f->probability_ppm))
			shim_delay(f, shim_pick_delay(f));
	}
	shim_leave();
}

SHIM_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
			    struct addrinfo **res)
{
	int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **) =
		SHIM_REAL(getaddrinfo);

	if (!real) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	if (!shim_idle())
		cgo_block_before("getaddrinfo");
	return real(node, service, hints, res);
}

SHIM_EXPORT int getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
			    socklen_t hostlen, char *serv, socklen_t servlen, int flags)
{
	int (*real)(const struct sockaddr *, socklen_t, char *, socklen_t, char *, socklen_t,
		    int) = SHIM_REAL(getnameinfo);

	if (!real) {
		errno = ENOSYS;
		return EAI_SYSTEM;
	}
	if (!shim_idle())
		cgo_block_before("getnameinfo");
	return real(sa, salen, host, hostlen, serv, servlen, flags);
}

SHIM_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *(*real)(const char *) = SHIM_REAL(gethostbyname);

	if (!real) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	if (!shim_idle())
		cgo_block_before("gethostbyname");
	return real(name);
}

SHIM_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
				struct hostent **result, int *h_errnop)
{
	int (*real)(const char *, struct hostent *, char *, size_t, struct hostent **, int *) =
		SHIM_REAL(gethostbyname_r);

	if (!real) {
		if (result)
			*result = NULL;
		if (h_errnop)
			*h_errnop = NO_RECOVERY;
		return ENOSYS;
	}
	if (!shim_idle())
		cgo_block_before("gethostbyname_r");
	return real(name, ret, buf, buflen, result, h_errnop);
}

/* ---- generic names: GOT entries redirected through a register-saving stub ---- */

/* One interposed name; the thunk hands its address to the stub in r11. */
struct cgo_thunk {
	char name[SYM_LEN];
	void *real;
};

static struct cgo_thunk thunks[MAX_THUNKS];
static unsigned n_thunks;
static uint8_t *thunk_code;	/* n_thunks * THUNK_SIZE bytes, read + exec */

void *cgo_block_hook(const struct cgo_thunk *t);

/**
 * cgo_block_hook() - called by the stub with every argument register saved.
 * Return: the real function, where the stub jumps next.
 */
__attribute__((used)) void *cgo_block_hook(const struct cgo_thunk *t)
{
	if (!shim_idle())
		cgo_block_before(t->name);
	return t->real;
}

/*
 * The common stub. On entry r11 holds the struct cgo_thunk and the stack is
 * as the caller left it (return address on top, rsp = 8 mod 16). The frame
 * keeps 8 general registers and 8 xmm registers (192 bytes, so the call
 * below sees an aligned stack); the hook's return value goes to r11, which
 * no argument uses, and the stub leaves by a plain jump so the real
 * function returns to the original caller.
 */
__asm__(".text\n"
	".p2align 4\n"
	".type cgo_block_stub, @function\n"
	"cgo_block_stub:\n"
	".cfi_startproc\n"
	"	pushq %rbp\n"
	".cfi_def_cfa_offset 16\n"
	".cfi_offset %rbp, -16\n"
	"	movq %rsp, %rbp\n"
	".cfi_def_cfa_register %rbp\n"
	"	subq $192, %rsp\n"
	"	movq %rdi, 0(%rsp)\n"
	"	movq %rsi, 8(%rsp)\n"
	"	movq %rdx, 16(%rsp)\n"
	"	movq %rcx, 24(%rsp)\n"
	"	movq %r8, 32(%rsp)\n"
	"	movq %r9, 40(%rsp)\n"
	"	movq %rax, 48(%rsp)\n"
	"	movq %r10, 56(%rsp)\n"
	"	movdqu %xmm0, 64(%rsp)\n"
	"	movdqu %xmm1, 80(%rsp)\n"
	"	movdqu %xmm2, 96(%rsp)\n"
	"	movdqu %xmm3, 112(%rsp)\n"
	"	movdqu %xmm4, 128(%rsp)\n"
	"	movdqu %xmm5, 144(%rsp)\n"
	"	movdqu %xmm6, 160(%rsp)\n"
	"	movdqu %xmm7, 176(%rsp)\n"
	"	movq %r11, %rdi\n"
	"	call cgo_block_hook\n"
	"	movq %rax, %r11\n"
	"	movq 0(%rsp), %rdi\n"
	"	movq 8(%rsp), %rsi\n"
	"	movq 16(%rsp), %rdx\n"
	"	movq 24(%rsp), %rcx\n"
	"	movq 32(%rsp), %r8\n"
	"	movq 40(%rsp), %r9\n"
	"	movq 48(%rsp), %rax\n"
	"	movq 56(%rsp), %r10\n"
	"	movdqu 64(%rsp), %xmm0\n"
	"	movdqu 80(%rsp), %xmm1\n"
	"	movdqu 96(%rsp), %xmm2\n"
	"	movdqu 112(%rsp), %xmm3\n"
	"	movdqu 128(%rsp), %xmm4\n"
	"	movdqu 144(%rsp), %xmm5\n"
	"	movdqu 160(%rsp), %xmm6\n"
	"	movdqu 176(%rsp), %xmm7\n"
	"	leave\n"
	".cfi_def_cfa %rsp, 8\n"
	"	jmp *%r11\n"
	".cfi_endproc\n"
	".size cgo_block_stub, .-cgo_block_stub\n");

void cgo_block_stub(void);

/* Write the thunk of @t at @code: movabs $t, %r11; jmp *0(%rip); .quad stub. */
static void thunk_emit(uint8_t *code, const struct cgo_thunk *t)
{
	uint64_t arg = (uint64_t)(uintptr_t)t;
	uint64_t stub = (uint64_t)(uintptr_t)&cgo_block_stub;

	code[0] = 0x49;		/* REX.W+B */
	code[1] = 0xbb;		/* mov imm64, %r11 */
	memcpy(code + 2, &arg, 8);
	code[10] = 0xff;	/* jmp *disp32(%rip) */
	code[11] = 0x25;
	memset(code + 12, 0, 4);
	memcpy(code + 16, &stub, 8);
	memset(code + 24, 0xcc, THUNK_SIZE - 24);	/* int3 padding */
}

static bool is_wrapped(const char *name)
{
	for (size_t i = 0; i < sizeof(wrapped) / sizeof(wrapped[0]); i++)
		if (strcmp(wrapped[i], name) == 0)
			return true;
	return false;
}

static int thunk_find(const char *name)
{
	for (unsigned i = 0; i < n_thunks; i++)
		if (strcmp(thunks[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Collect the generic names of every cgo-block slot, armed or not. */
static void thunks_collect(void)
{
	for (uint32_t i = 0; i < shim.n_faults; i++) {
		const struct fg_ctl_fault *f = &shim.ctl->faults[i];
		uint32_t n = f->n_symbols < FG_CTL_MAX_SYMBOLS ? f->n_symbols : FG_CTL_MAX_SYMBOLS;

		if (f->kind != FAULT_CGO_BLOCK)
			continue;
		for (uint32_t k = 0; k < n && n_thunks < MAX_THUNKS; k++) {
			struct cgo_thunk *t = &thunks[n_thunks];

			if (!memchr(f->symbols[k], '\0', SYM_LEN) || !f->symbols[k][0] ||
			    is_wrapped(f->symbols[k]) || thunk_find(f->symbols[k]) >= 0)
				continue;
			memcpy(t->name, f->symbols[k], SYM_LEN);
			t->real = dlsym(RTLD_DEFAULT, t->name);
			if (!t->real) {
				shim_log(SHIM_LOG_INFO, "cgo-block: no symbol '%s' in the process",
					 t->name);
				continue;
			}
			n_thunks++;
		}
	}
}

/* Dynamic-section pointers: glibc relocates them in place on x86-64, other
 * loaders (and the vdso) leave them as offsets from the load base. */
static uintptr_t dyn_ptr(uintptr_t base, uintptr_t v)
{
	return v < base ? base + v : v;
}

struct patch_ctx {
	uintptr_t self;		/* load base of the shim: its own GOT stays */
	unsigned patched;
};

struct object_view {
	uintptr_t base;
	const Elf64_Sym *symtab;
	const char *strtab;
	size_t strsz;
	uintptr_t relro_from, relro_to;
};

/* Point the GOT word at @slot to @to, lifting RELRO for the write. */
static void got_write(const struct object_view *o, uintptr_t slot, uintptr_t to)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t start = slot & ~(uintptr_t)(page - 1);
	bool relro = slot >= o->relro_from && slot < o->relro_to;

	if (relro && mprotect((void *)start, (size_t)page, PROT_READ | PROT_WRITE) < 0) {
		shim_log(SHIM_LOG_WARN, "cgo-block: unprotect GOT at %#lx: %s",
			 (unsigned long)slot, strerror(errno));
		return;
	}
	__atomic_store_n((uintptr_t *)slot, to, __ATOMIC_RELEASE);
	if (relro)
		(void)mprotect((void *)start, (size_t)page, PROT_READ);
}

static unsigned patch_relocs(const struct object_view *o, const Elf64_Rela *rel, size_t size)
{
	unsigned n = 0;

	for (size_t i = 0; rel && i < size / sizeof(*rel); i++) {
		unsigned type = ELF64_R_TYPE(rel[i].r_info);
		const Elf64_Sym *sym;
		int k;

		if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
			continue;
		sym = &o->symtab[ELF64_R_SYM(rel[i].r_info)];
		if (sym->st_name >= o->strsz)
			continue;
		k = thunk_find(o->strtab + sym->st_name);
		if (k < 0)
			continue;
		got_write(o, o->base + rel[i].r_offset,
			  (uintptr_t)(thunk_code + (size_t)k * THUNK_SIZE));
		n++;
	}
	return n;
}

static int patch_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct object_view o = { .base = info->dlpi_addr };
	const Elf64_Rela *jmprel = NULL, *rela = NULL;
	size_t jmprelsz = 0, relasz = 0;
	const Elf64_Dyn *dyn = NULL;
	struct patch_ctx *pc = data;

	(void)size;
	if (info->dlpi_addr == pc->self ||
	    (info->dlpi_name && strstr(info->dlpi_name, "linux-vdso")))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_DYNAMIC)
			dyn = (const Elf64_Dyn *)(o.base + ph->p_vaddr);
		if (ph->p_type == PT_GNU_RELRO) {
			o.relro_from = o.base + ph->p_vaddr;
			o.relro_to = o.relro_from + ph->p_memsz;
		}
	}
	for (; dyn && dyn->d_tag != DT_NULL; dyn++) {
		uintptr_t v = dyn->d_un.d_ptr;

		switch (dyn->d_tag) {
		case DT_SYMTAB:
			o.symtab = (const Elf64_Sym *)dyn_ptr(o.base, v);
			break;
		case DT_STRTAB:
			o.strtab = (const char *)dyn_ptr(o.base, v);
			break;
		case DT_STRSZ:
			o.strsz = dyn->d_un.d_val;
			break;
		case DT_JMPREL:
			jmprel = (const Elf64_Rela *)dyn_ptr(o.base, v);
			break;
		case DT_PLTRELSZ:
			jmprelsz = dyn->d_un.d_val;
			break;
		case DT_RELA:
			rela = (const Elf64_Rela *)dyn_ptr(o.base, v);
			break;
		case DT_RELASZ:
			relasz = dyn->d_un.d_val;
			break;
		default:
			break;
		}
	}
	if (!o.symtab || !o.strtab)
		return 0;
	pc->patched += patch_relocs(&o, jmprel, jmprelsz);
	pc->patched += patch_relocs(&o, rela, relasz);
	return 0;
}

/* Load base of the shim itself, whose own references must stay direct. */
static uintptr_t own_base(void)
{
	Dl_info di;

	if (!dladdr((void *)&cgo_block_hook, &di))
		return 0;
	return (uintptr_t)di.dli_fbase;
}

__attribute__((constructor(SHIM_PRIO_LATE))) static void cgo_block_boot(void)
{
	int saved = errno;
	struct patch_ctx pc = { 0 };

	if (!shim.ctl)
		goto out;
	thunks_collect();
	if (!n_thunks)
		goto out;
	thunk_code = mmap(NULL, MAX_THUNKS * THUNK_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (thunk_code == MAP_FAILED) {
		thunk_code = NULL;
		shim_log(SHIM_LOG_WARN, "cgo-block: map thunks: %s", strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i < n_thunks; i++)
		thunk_emit(thunk_code + (size_t)i * THUNK_SIZE, &thunks[i]);
	if (mprotect(thunk_code, MAX_THUNKS * THUNK_SIZE, PROT_READ | PROT_EXEC) < 0) {
		shim_log(SHIM_LOG_WARN, "cgo-block: protect thunks: %s", strerror(errno));
		goto out;
	}
	pc.self = own_base();
	dl_iterate_phdr(patch_object, &pc);
	shim_log(SHIM_LOG_DEBUG, "cgo-block: %u names, %u GOT entries redirected", n_thunks,
		 pc.patched);
out:
	errno = saved;
}
