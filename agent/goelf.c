// SPDX-License-Identifier: Apache-2.0
/* Go binary analysis: the executable is mapped read-only once; the pclntab
 * gives every function (also when stripped), .symtab the data symbols. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "goelf.h"

#define BI_MAGIC "\xff Go buildinf:"
#define BI_MAGIC_LEN 14
#define BI_HDR 32
#define BI_SCAN (64 * 1024)
#define BI_BIG_ENDIAN (1u << 0)
#define BI_INLINE (1u << 1)

#define PCLN_PTRSIZE 8
#define PAGE_MASK_4K (~(uint64_t)0xfff)

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint64_t get_uint(const uint8_t *p, unsigned size, bool big)
{
	uint64_t v = 0;

	if (!big)
		return get_le(p, size);
	for (unsigned i = 0; i < size; i++)
		v = v << 8 | p[i];
	return v;
}

int goelf_parse_version(const char *s, int *ret_major, int *ret_minor)
{
	const char *p = strstr(s, "go1.");
	char *end;
	long minor;

	if (!p)
		return -EINVAL;
	errno = 0;
	minor = strtol(p + 4, &end, 10);
	if (errno || end == p + 4 || minor < 0 || minor > 1000)
		return -EINVAL;
	*ret_major = 1;
	*ret_minor = (int)minor;
	return 0;
}

/* Go 1.18+: uvarint length then bytes, right after the 32-byte header. */
static int bi_inline(const uint8_t *blob, size_t len, char *ret, size_t size)
{
	uint64_t n = 0;
	size_t i = BI_HDR;
	unsigned shift = 0;

	for (; i < len && shift < 64; i++, shift += 7) {
		n |= (uint64_t)(blob[i] & 0x7f) << shift;
		if (!(blob[i] & 0x80))
			break;
	}
	i++;
	if (n == 0 || n >= size || i > len || n > len - i)
		return -EINVAL;
	memcpy(ret, blob + i, n);
	ret[n] = '\0';
	return 0;
}

int goelf_buildinfo_version(const uint8_t *blob, size_t len, goelf_read_fn rd,
			    void *ctx, char *ret, size_t size)
{
	uint8_t hdr[16];
	unsigned ps;
	bool big;
	uint64_t ptr, data, n;

	if (len < BI_HDR || memcmp(blob, BI_MAGIC, BI_MAGIC_LEN) != 0)
		return -EINVAL;
	if (blob[15] & BI_INLINE)
		return bi_inline(blob, len, ret, size);
	ps = blob[14];
	big = blob[15] & BI_BIG_ENDIAN;
	if ((ps != 4 && ps != 8) || !rd)
		return -EINVAL;
	/* Before 1.18: two pointers to string headers {data, len}; the
	 * first is the version. */
	ptr = get_uint(blob + 16, ps, big);
	if (rd(ctx, ptr, hdr, 2 * ps) < 0)
		return -EINVAL;
	data = get_uint(hdr, ps, big);
	n = get_uint(hdr + ps, ps, big);
	if (n == 0 || n >= size)
		return -EINVAL;
	if (rd(ctx, data, ret, n) < 0)
		return -EINVAL;
	ret[n] = '\0';
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct goelf_func *x = a, *y = b;

	return (x->entry > y->entry) - (x->entry < y->entry);
}

/* Layout facts of one pclntab header version. */
struct pcln_layout {
	bool has_text_start;	/* 1.18+: textStart word, u32 functab */
	unsigned name_off;	/* offset of nameOff in _func */
	unsigned flag_off;	/* offset of the flag byte, 0 = none */
};

static int pcln_layout(uint32_t magic, int go_minor, struct pcln_layout *l)
{
	switch (magic) {
	case GOELF_PCLN_116:
		l->has_text_start = false;
		l->name_off = 8;
		l->flag_off = go_minor >= 17 ? 41 : 0;
		return 0;
	case GOELF_PCLN_118:
		l->has_text_start = true;
		l->name_off = 4;
		l->flag_off = 37;
		return 0;
	case GOELF_PCLN_120:
		l->has_text_start = true;
		l->name_off = 4;
		l->flag_off = 41;
		return 0;
	default:
		return -EINVAL;
	}
}

static bool name_ok(const uint8_t *p, size_t len, uint64_t off)
{
	if (off >= len)
		return false;
	return memchr(p + off, '\0', len - off) != NULL && p[off] >= 0x20;
}

int goelf_pclntab_parse(const uint8_t *p, size_t len, int go_minor, uint64_t text_start,
			struct goelf_func **ret, size_t *ret_n, uint64_t *ret_text_start)
{
	fg_autofree struct goelf_func *v = NULL;
	struct pcln_layout l;
	uint64_t nfunc, nameoff, ftab, ts = 0, w;
	size_t esz;
	unsigned hw;

	if (len < 8 + 8 * PCLN_PTRSIZE || p[4] || p[5] || p[6] != 1 ||
	    p[7] != PCLN_PTRSIZE)
		return -EINVAL;
	if (pcln_layout((uint32_t)get_le(p, 4), go_minor, &l) < 0)
		return -EINVAL;
	nfunc = get_le(p + 8, 8);
	hw = 24;	/* after magic, nfunc, nfiles */
	if (l.has_text_start) {
		ts = get_le(p + hw, 8);
		hw += 8;
	}
	if (text_start)
		ts = text_start;
	nameoff = get_le(p + hw, 8);
	ftab = get_le(p + hw + 32, 8);
	esz = l.has_text_start ? 8 : 16;
	if (nfunc == 0 || nfunc > len / esz || nameoff >= len || ftab >= len ||
	    (nfunc + 1) * esz > len - ftab)
		return -EINVAL;
	v = calloc(nfunc, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint64_t i = 0; i < nfunc; i++) {
		const uint8_t *e = p + ftab + i * esz;
		uint64_t entry, next, foff, noff;

		if (l.has_text_start) {
			entry = ts + get_le(e, 4);
			next = ts + get_le(e + esz, 4);
			foff = get_le(e + 4, 4);
		} else {
			entry = get_le(e, 8);
			next = get_le(e + esz, 8);
			foff = get_le(e + 8, 8);
		}
		w = ftab + foff;
		if (foff >= len || w + 48 > len || next < entry)
			return -EINVAL;
		noff = nameoff + (uint32_t)get_le(p + w + l.name_off, 4);
		if (!name_ok(p, len, noff))
			return -EINVAL;
		v[i].entry = entry;
		v[i].end = next;
		v[i].name = (const char *)p + noff;
		v[i].flag = l.flag_off ? p[w + l.flag_off] : 0;
	}
	qsort(v, nfunc, sizeof(*v), cmp_entry);
	*ret = fg_steal_ptr(v);
	*ret_n = nfunc;
	if (ret_text_start)
		*ret_text_start = ts;
	return 0;
}

static Elf_Scn *section_by_suffix(Elf *e, const char *suffix, GElf_Shdr *sh)
{
	size_t shstrndx, sl = strlen(suffix);
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(e, &shstrndx) < 0)
		return NULL;
	while ((scn = elf_nextscn(e, scn))) {
		const char *n;
		size_t nl;

		if (!gelf_getshdr(scn, sh))
			continue;
		n = elf_strptr(e, shstrndx, sh->sh_name);
		if (!n)
			continue;
		nl = strlen(n);
		if (nl >= sl && strcmp(n + nl - sl, suffix) == 0)
			return scn;
	}
	return NULL;
}

int goelf_read(const struct goelf *g, uint64_t vaddr, void *buf, size_t len)
{
	Elf *e = g->elf;
	size_t n;

	if (elf_getphdrnum(e, &n) < 0)
		return -EFAULT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr - ph.p_vaddr > ph.p_filesz ||
		    len > ph.p_filesz - (vaddr - ph.p_vaddr))
			continue;
		if (ph.p_offset + (vaddr - ph.p_vaddr) + len > g->map_size)
			return -EFAULT;
		memcpy(buf, g->map + ph.p_offset + (vaddr - ph.p_vaddr), len);
		return 0;
	}
	return -EFAULT;
}

static int read_cb(void *ctx, uint64_t vaddr, void *buf, size_t len)
{
	return goelf_read(ctx, vaddr, buf, len);
}

/* The file offset of the build info: its section, else a scan of the first
 * writable segment at 16-byte steps. */
static int find_buildinfo(struct goelf *g, uint64_t *ret_off)
{
	Elf *e = g->elf;
	GElf_Shdr sh;
	size_t n;

	if (section_by_suffix(e, ".go.buildinfo", &sh)) {
		*ret_off = sh.sh_offset;
		return 0;
	}
	if (elf_getphdrnum(e, &n) < 0)
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		uint64_t lim;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    !(ph.p_flags & PF_W))
			continue;
		lim = ph.p_filesz < BI_SCAN ? ph.p_filesz : BI_SCAN;
		for (uint64_t o = 0; o + BI_HDR <= lim; o += 16) {
			if (ph.p_offset + o + BI_HDR > g->map_size)
				break;
			if (!memcmp(g->map + ph.p_offset + o, BI_MAGIC, BI_MAGIC_LEN)) {
				*ret_off = ph.p_offset + o;
				return 0;
			}
		}
		break;
	}
	return -ENOENT;
}

/* Without a section: a header prefix at 8-byte alignment in a loadable
 * segment that parses into a sane table. Return: file offset or 0. */
static uint64_t scan_pclntab(struct goelf *g, uint64_t *ret_vaddr)
{
	static const uint32_t magics[] = { GOELF_PCLN_120, GOELF_PCLN_118, GOELF_PCLN_116 };
	Elf *e = g->elf;
	size_t n;

	if (elf_getphdrnum(e, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD ||
		    (ph.p_flags & PF_X) || ph.p_offset + ph.p_filesz > g->map_size)
			continue;
		for (uint64_t o = 0; o + 72 <= ph.p_filesz; o += 8) {
			const uint8_t *q = g->map + ph.p_offset + o;
			struct goelf_func *f = NULL;
			size_t nf;
			bool hit = false;

			if (q[4] || q[5] || q[6] != 1 || q[7] != 8)
				continue;
			for (size_t m = 0; m < 3; m++)
				hit |= (uint32_t)get_le(q, 4) == magics[m];
			if (!hit || goelf_pclntab_parse(q, ph.p_filesz - o, g->go_minor, 0,
							&f, &nf, NULL) < 0)
				continue;
			free(f);
			*ret_vaddr = ph.p_vaddr + o;
			return ph.p_offset + o;
		}
	}
	return 0;
}

/* textStart stays 0 in the file when a dynamic relocation fills it: take
 * the addend of the R_X86_64_RELATIVE at that word. */
static uint64_t relocated_word(struct goelf *g, uint64_t vaddr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sizeof(Elf64_Rela); i++) {
			GElf_Rela r;

			if (gelf_getrela(d, (int)i, &r) && r.r_offset == vaddr &&
			    GELF_R_TYPE(r.r_info) == R_X86_64_RELATIVE)
				return (uint64_t)r.r_addend;
		}
	}
	return 0;
}

static int load_pclntab(struct goelf *g)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	uint64_t off = 0, vaddr = 0, ts = 0;
	int r;

	scn = section_by_suffix(g->elf, "gopclntab", &sh);
	if (scn && sh.sh_size >= 72 && sh.sh_offset + sh.sh_size <= g->map_size) {
		off = sh.sh_offset;
		vaddr = sh.sh_addr;
	} else {
		off = scan_pclntab(g, &vaddr);
		if (!off)
			return -ENOENT;
	}
	g->pcln_magic = (uint32_t)get_le(g->map + off, 4);
	g->pcln_vaddr = vaddr;
	if (g->pcln_magic != GOELF_PCLN_116 && get_le(g->map + off + 24, 8) == 0)
		ts = relocated_word(g, vaddr + 24);
	r = goelf_pclntab_parse(g->map + off, g->map_size - off, g->go_minor, ts,
				&g->funcs, &g->n_funcs, &g->text_start);
	if (r < 0)
		g->pcln_magic = 0;
	return r;
}

static bool has_dynsym(Elf *e, const char *name)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s))
				continue;
			n = elf_strptr(e, sh.sh_link, s.st_name);
			if (n && strcmp(n, name) == 0)
				return true;
		}
	}
	return false;
}

static void analyse(struct goelf *g)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	uint64_t off;
	size_t n;

	if (gelf_getehdr(g->elf, &eh)) {
		g->pie = eh.e_type == ET_DYN;
		g->machine = eh.e_machine;
	}
	g->link_base = UINT64_MAX;
	if (elf_getphdrnum(g->elf, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(g->elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
			    (ph.p_vaddr & PAGE_MASK_4K) < g->link_base)
				g->link_base = ph.p_vaddr & PAGE_MASK_4K;
		}
	}
	if (g->link_base == UINT64_MAX)
		g->link_base = 0;
	g->stripped = !section_by_suffix(g->elf, ".symtab", &sh);
	g->has_dwarf = section_by_suffix(g->elf, ".debug_info", &sh) ||
		       section_by_suffix(g->elf, ".zdebug_info", &sh);
	if (find_buildinfo(g, &off) == 0 &&
	    goelf_buildinfo_version(g->map + off, g->map_size - off, read_cb, g,
				    g->version, sizeof(g->version)) == 0) {
		g->is_go = true;
		(void)goelf_parse_version(g->version, &g->go_major, &g->go_minor);
	}
	if (load_pclntab(g) == 0)
		g->is_go = true;
	g->cgo = goelf_func_named(g, "_cgo_panic") || goelf_func_named(g, "crosscall2") ||
		 has_dynsym(g->elf, "_cgo_init");
	if (!g->cgo && !g->stripped)
		g->cgo = goelf_symbol(g, "x_cgo_init", NULL, NULL) == 0;
}

int goelf_open(const char *path, struct goelf **ret)
{
	fg_autoclose int fd = -1;
	struct goelf *g;
	struct stat st;
	void *map;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < 64)
		return -ENOEXEC;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	g = calloc(1, sizeof(*g));
	if (!g) {
		munmap(map, (size_t)st.st_size);
		return -ENOMEM;
	}
	g->map = map;
	g->map_size = (size_t)st.st_size;
	g->elf = elf_memory(map, g->map_size);
	if (!g->elf || elf_kind(g->elf) != ELF_K_ELF) {
		goelf_free(g);
		return -ENOEXEC;
	}
	analyse(g);
	*ret = g;
	return 0;
}

struct goelf *goelf_free(struct goelf *g)
{
	if (!g)
		return NULL;
	if (g->elf)
		elf_end(g->elf);
	if (g->map)
		munmap((void *)g->map, g->map_size);
	free(g->funcs);
	free(g);
	return NULL;
}

const struct goelf_func *goelf_func_at(const struct goelf *g, uint64_t pc)
{
	size_t lo = 0, hi = g->n_funcs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pc < g->funcs[mid].entry)
			hi = mid;
		else if (pc >= g->funcs[mid].end)
			lo = mid + 1;
		else
			return &g->funcs[mid];
	}
	return NULL;
}

const struct goelf_func *goelf_func_named(const struct goelf *g, const char *name)
{
	for (size_t i = 0; i < g->n_funcs; i++)
		if (strcmp(g->funcs[i].name, name) == 0)
			return &g->funcs[i];
	return NULL;
}

int goelf_symbol(const struct goelf *g, const char *name, uint64_t *ret_addr,
		 uint64_t *ret_size)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(g->elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s))
				continue;
			n = elf_strptr(g->elf, sh.sh_link, s.st_name);
			if (!n || strcmp(n, name) != 0)
				continue;
			if (ret_addr)
				*ret_addr = s.st_value;
			if (ret_size)
				*ret_size = s.st_size;
			return 0;
		}
	}
	return -ENOENT;
}

int goelf_load_bias(const struct goelf *g, pid_t pid, uint64_t *ret)
{
	fg_autofclose FILE *f = NULL;
	char path[64], line[512], exe[4096];
	ssize_t n;

	if (!g->pie) {
		*ret = 0;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t start, end, off;
		int pos = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %n",
			   &start, &end, &off, &pos) < 3 || !pos)
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (off != 0 || strcmp(line + pos, exe) != 0)
			continue;
		*ret = start - g->link_base;
		return 0;
	}
	return -ENOENT;
}
