// SPDX-License-Identifier: Apache-2.0
/* Executable facts from the file alone: ELF or not, static or dynamic, Go and
 * its toolchain version (from the build info blob the Go linker embeds). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "binfo.h"
#include "cleanup.h"

#define BUILDINFO_MAGIC "\xff Go buildinf:"
#define BUILDINFO_MAGIC_LEN 14
#define BUILDINFO_HDR 32
#define BUILDINFO_SCAN (64 * 1024) /* how far into the data segment to look */
#define BI_FLAG_BIG_ENDIAN (1u << 0)
#define BI_FLAG_INLINE (1u << 1)
#define NT_GO_BUILDID 4

static void elf_endp(Elf **e)
{
	if (*e)
		elf_end(*e);
}

#define fg_autoelf __attribute__((cleanup(elf_endp)))

static bool is_exec_file(const char *path)
{
	return access(path, X_OK) == 0;
}

/* Search $PATH the way execvp does, first executable match wins. */
static int search_path(const char *name, char *ret, size_t size)
{
	const char *path = secure_getenv("PATH");
	const char *p;

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; p;) {
		const char *end = strchrnul(p, ':');
		size_t len = (size_t)(end - p);
		int n;

		if (len == 0)
			n = snprintf(ret, size, "%s", name);
		else
			n = snprintf(ret, size, "%.*s/%s", (int)len, p, name);
		if (n > 0 && (size_t)n < size && is_exec_file(ret))
			return 0;
		p = *end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int binfo_resolve(const char *argv0, const char *cwd, char *ret, size_t size)
{
	char base[PATH_MAX];
	int n;

	if (!argv0 || !*argv0)
		return -ENOENT;
	if (!strchr(argv0, '/'))
		return search_path(argv0, ret, size);
	if (argv0[0] == '/' || !cwd)
		n = snprintf(base, sizeof(base), "%s", argv0);
	else
		n = snprintf(base, sizeof(base), "%s/%s", cwd, argv0);
	if (n < 0 || (size_t)n >= sizeof(base))
		return -ENAMETOOLONG;
	if (!realpath(base, ret)) {
		if (size < PATH_MAX)
			return -ENAMETOOLONG;
		return -errno;
	}
	return 0;
}

static uint64_t read_uint(const unsigned char *p, unsigned size, bool big)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned shift = big ? (size - 1 - i) * 8 : i * 8;

		v |= (uint64_t)p[i] << shift;
	}
	return v;
}

/* Read @len bytes at virtual address @vaddr through the PT_LOAD segments. */
static int read_vaddr(Elf *e, int fd, uint64_t vaddr, void *buf, size_t len)
{
	size_t n;

	if (elf_getphdrnum(e, &n) < 0)
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		uint64_t off;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr ||
		    vaddr + len > ph.p_vaddr + ph.p_filesz)
			continue;
		off = ph.p_offset + (vaddr - ph.p_vaddr);
		if (pread(fd, buf, len, (off_t)off) != (ssize_t)len)
			return -EIO;
		return 0;
	}
	return -ENOENT;
}

/* Go before 1.18: a pointer to a Go string header (data pointer, length). */
static int version_from_pointer(Elf *e, int fd, const unsigned char *hdr,
				char *ret, size_t size)
{
	unsigned psize = hdr[14];
	bool big = hdr[15] & BI_FLAG_BIG_ENDIAN;
	unsigned char str[16];
	uint64_t ptr, data, len;

	if (psize != 4 && psize != 8)
		return -EINVAL;
	ptr = read_uint(hdr + 16, psize, big);
	if (read_vaddr(e, fd, ptr, str, 2 * psize) < 0)
		return -EINVAL;
	data = read_uint(str, psize, big);
	len = read_uint(str + psize, psize, big);
	if (len == 0 || len >= size)
		return -EINVAL;
	if (read_vaddr(e, fd, data, ret, len) < 0)
		return -EINVAL;
	ret[len] = '\0';
	return 0;
}

/* Go 1.18 and later: a uvarint length and the bytes, right after the header. */
static int version_inline(int fd, uint64_t off, char *ret, size_t size)
{
	unsigned char buf[10 + 64];
	uint64_t len = 0;
	unsigned shift = 0, i;
	ssize_t n;

	n = pread(fd, buf, sizeof(buf), (off_t)(off + BUILDINFO_HDR));
	if (n <= 0)
		return -EINVAL;
	for (i = 0; i < (unsigned)n && i < 10; i++) {
		len |= (uint64_t)(buf[i] & 0x7f) << shift;
		shift += 7;
		if (!(buf[i] & 0x80))
			break;
	}
	i++;
	if (len == 0 || len >= size || i + len > (uint64_t)n)
		return -EINVAL;
	memcpy(ret, buf + i, len);
	ret[len] = '\0';
	return 0;
}

/* @off: file offset of a candidate build info header. */
static int buildinfo_at(Elf *e, int fd, uint64_t off, char *ret, size_t size)
{
	unsigned char hdr[BUILDINFO_HDR];

	if (pread(fd, hdr, sizeof(hdr), (off_t)off) != (ssize_t)sizeof(hdr))
		return -EINVAL;
	if (memcmp(hdr, BUILDINFO_MAGIC, BUILDINFO_MAGIC_LEN) != 0)
		return -EINVAL;
	if (hdr[15] & BI_FLAG_INLINE)
		return version_inline(fd, off, ret, size);
	return version_from_pointer(e, fd, hdr, ret, size);
}

static Elf_Scn *find_section(Elf *e, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *n;

		if (!gelf_getshdr(scn, &sh))
			continue;
		n = elf_strptr(e, shstrndx, sh.sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

/* Binaries without section headers: the blob sits 16-byte aligned near the
 * start of the first writable PT_LOAD. Return: 0 with @ret_off, or -ENOENT. */
static int scan_data_segment(Elf *e, int fd, uint64_t *ret_off)
{
	fg_autofree unsigned char *buf = NULL;
	size_t n;

	if (elf_getphdrnum(e, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		size_t len;
		ssize_t got;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_W))
			continue;
		len =
		    ph.p_filesz < BUILDINFO_SCAN ? ph.p_filesz : BUILDINFO_SCAN;
		buf = malloc(len ? len : 1);
		if (!buf)
			return -ENOMEM;
		got = pread(fd, buf, len, (off_t)ph.p_offset);
		for (ssize_t o = 0; o + BUILDINFO_HDR <= got; o += 16) {
			if (memcmp(buf + o, BUILDINFO_MAGIC,
				   BUILDINFO_MAGIC_LEN) == 0) {
				*ret_off = ph.p_offset + (uint64_t)o;
				return 0;
			}
		}
		return -ENOENT;
	}
	return -ENOENT;
}

static bool has_go_note(Elf *e)
{
	Elf_Scn *scn = find_section(e, ".note.go.buildid");
	Elf_Data *d;
	GElf_Nhdr nh;
	size_t off = 0, name_off, desc_off;

	if (!scn)
		return false;
	d = elf_getdata(scn, NULL);
	if (!d)
		return false;
	while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		if (nh.n_type == NT_GO_BUILDID &&
		    (nh.n_namesz == 3 || nh.n_namesz == 4) &&
		    memcmp((const char *)d->d_buf + name_off, "Go", 3) == 0)
			return true;
	}
	return false;
}

static void inspect_go(Elf *e, int fd, struct target_facts *facts)
{
	Elf_Scn *scn = find_section(e, ".go.buildinfo");
	bool note = has_go_note(e);
	size_t nsec = 0;
	uint64_t off = 0;
	GElf_Shdr sh;
	int r = -ENOENT;

	if (scn && gelf_getshdr(scn, &sh)) {
		off = sh.sh_offset;
		r = 0;
	} else if (note || elf_getshdrnum(e, &nsec) < 0 || nsec == 0) {
		r = scan_data_segment(e, fd, &off);
	}
	if (r == 0)
		r = buildinfo_at(e, fd, off, facts->go_version,
				 sizeof(facts->go_version));
	if (r < 0)
		facts->go_version[0] = '\0';
	facts->is_go = r == 0 || scn || note;
}

static int inspect_file(const char *path, struct target_facts *facts)
{
	fg_autoclose int fd = -1;
	fg_autoelf Elf *e = NULL;
	size_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF)
		return -ENOEXEC;
	if (elf_getphdrnum(e, &n) < 0)
		return -ENOEXEC;
	facts->is_static = true;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
			facts->is_static = false;
	}
	inspect_go(e, fd, facts);
	facts->known = true;
	return 0;
}

int binfo_inspect_at(const char *path, const char *cwd,
		     struct target_facts *ret, char *ret_resolved, size_t size)
{
	char resolved[PATH_MAX];
	int r;

	ret->known = false;
	ret->is_go = false;
	ret->is_static = false;
	ret->go_version[0] = '\0';
	r = binfo_resolve(path, cwd, resolved, sizeof(resolved));
	if (r < 0)
		return r;
	if (ret_resolved && size)
		snprintf(ret_resolved, size, "%s", resolved);
	return inspect_file(resolved, ret);
}

int binfo_inspect(const char *path, struct target_facts *ret,
		  char *ret_resolved, size_t size)
{
	return binfo_inspect_at(path, NULL, ret, ret_resolved, size);
}
