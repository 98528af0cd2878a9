/* SPDX-License-Identifier: Apache-2.0 */
/* Go binary analysis from the file alone: toolchain version (build info in
 * both encodings), stripped, PIE, cgo; the function table from the pclntab
 * (Go 1.16 and later header layouts), data symbols from .symtab; the load
 * bias of a running PIE from /proc/PID/maps. Library code: never logs. */
#ifndef FG_GOELF_H
#define FG_GOELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GOELF_PCLN_116 0xfffffffau	/* Go 1.16 and 1.17 */
#define GOELF_PCLN_118 0xfffffff0u	/* Go 1.18 and 1.19 */
#define GOELF_PCLN_120 0xfffffff1u	/* Go 1.20 and later */

#define GOELF_FUNC_ASM (1u << 2)	/* _func.flag: written in assembly */

struct goelf_func {
	uint64_t entry, end;		/* link-time addresses, [entry, end) */
	const char *name;		/* points into the mapped file */
	uint8_t flag;			/* GOELF_FUNC_*; 0 on Go 1.16 */
};

struct goelf {
	bool is_go;
	bool pie;			/* ET_DYN executable */
	bool stripped;			/* no .symtab */
	bool cgo;			/* runtime/cgo linked in */
	bool has_dwarf;
	uint16_t machine;		/* e_machine */
	char version[32];		/* "go1.19.8", "" when unknown */
	int go_major, go_minor;		/* 1, 19; 0 when unknown */
	uint64_t link_base;		/* page-aligned vaddr of the PT_LOAD at offset 0 */
	uint32_t pcln_magic;		/* 0 when no pclntab was found */
	uint64_t pcln_vaddr;		/* link-time address of the pclntab header */
	uint64_t text_start;		/* pclntab textStart (link-time) */
	struct goelf_func *funcs;	/* sorted by entry */
	size_t n_funcs;

	/* private */
	const uint8_t *map;
	size_t map_size;
	void *elf;
};

/**
 * goelf_open() - analyse the executable at @path (use "/proc/PID/exe" for a
 * running process, so mount namespaces do not matter).
 * Return: 0; -ENOENT/-EACCES from open; -ENOEXEC when it is not ELF;
 * -ENOMEM. A non-Go ELF file succeeds with is_go false.
 */
int goelf_open(const char *path, struct goelf **ret);

/** goelf_free() - release @g (NULL is fine). Return: NULL. */
struct goelf *goelf_free(struct goelf *g);

/** goelf_func_at() - the function containing link-time @pc, or NULL. */
const struct goelf_func *goelf_func_at(const struct goelf *g, uint64_t pc);

/** goelf_func_named() - the function called @name, or NULL. */
const struct goelf_func *goelf_func_named(const struct goelf *g, const char *name);

/**
 * goelf_symbol() - a .symtab symbol's link-time address and size.
 * Return: 0, -ENOENT (absent or stripped).
 */
int goelf_symbol(const struct goelf *g, const char *name, uint64_t *ret_addr,
		 uint64_t *ret_size);

/**
 * goelf_read() - @len bytes of the file image at link-time @vaddr.
 * Return: 0, -EFAULT when the range is not in a file-backed segment.
 */
int goelf_read(const struct goelf *g, uint64_t vaddr, void *buf, size_t len);

/**
 * goelf_load_bias() - run-time address minus link-time address for the
 * executable of @pid (0 for ET_EXEC), from /proc/PID/maps.
 * Return: 0, -ESRCH, -ENOENT when the mapping was not found.
 */
int goelf_load_bias(const struct goelf *g, pid_t pid, uint64_t *ret);

/**
 * goelf_parse_version() - "go1.19.8", "go1.21rc2", "devel go1.22-abc" into
 * major and minor. Return: 0, -EINVAL.
 */
int goelf_parse_version(const char *s, int *ret_major, int *ret_minor);

/* Reads link-time addresses for the pre-1.18 build info (pointer form). */
typedef int (*goelf_read_fn)(void *ctx, uint64_t vaddr, void *buf, size_t len);

/**
 * goelf_buildinfo_version() - the version string of a build info blob
 * @blob of @len bytes (starting at the magic): inline strings (Go 1.18+)
 * or pointers to string headers (older), read through @rd.
 * Return: 0, -EINVAL when malformed.
 */
int goelf_buildinfo_version(const uint8_t *blob, size_t len, goelf_read_fn rd,
			    void *ctx, char *ret, size_t size);

/**
 * goelf_pclntab_parse() - the function table of the pclntab at @p (@len
 * bytes, starting at the header). @go_minor tells 1.16 from 1.17 (0 if
 * unknown); @text_start replaces the header's textStart when non-zero.
 * Names point into @p. Return: 0, -EINVAL (bad header or table), -ENOMEM.
 */
int goelf_pclntab_parse(const uint8_t *p, size_t len, int go_minor, uint64_t text_start,
			struct goelf_func **ret, size_t *ret_n, uint64_t *ret_text_start);

#endif
