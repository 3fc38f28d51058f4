/*
 * XLSX reader: libzip for the package, expat for the parts; see xlsx.h.
 *
 * Every member goes through read_member(), which checks its declared sizes
 * against the limits before inflating, counts what it inflates (the zip
 * directory is written by whoever made the file) and feeds expat
 * lim.read_chunk bytes (64 KiB) at a time.  The small parts fill struct
 * xlsx; a sheet is turned into rows by the sheet_* handlers as expat reports
 * it, so only one row is held.
 */
#include "ingest/xlsx.h"
#include "ingest/sheetval.h"

#include <errno.h>
#include <stdarg.h>
#include <expat.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/dynlib.h"

/* libzip, loaded on first use (base/dynlib.h): only XLSX needs it.  Its
 * functions without the zip_ prefix; written once by dynlib_ready,
 * read-only after. */
static struct {
	__typeof__(zip_discard) *discard;
	__typeof__(zip_error_code_zip) *error_code_zip;
	__typeof__(zip_error_fini) *error_fini;
	__typeof__(zip_error_init) *error_init;
	__typeof__(zip_error_strerror) *error_strerror;
	__typeof__(zip_fclose) *fclose;
	__typeof__(zip_file_strerror) *file_strerror;
	__typeof__(zip_fopen_index) *fopen_index;
	__typeof__(zip_fread) *fread;
	__typeof__(zip_name_locate) *name_locate;
	__typeof__(zip_open_from_source) *open_from_source;
	__typeof__(zip_source_buffer_create) *source_buffer_create;
	__typeof__(zip_source_file_create) *source_file_create;
	__typeof__(zip_source_free) *source_free;
	__typeof__(zip_stat_index) *stat_index;
	__typeof__(zip_stat_init) *stat_init;
	__typeof__(zip_strerror) *strerror;
} Z;

#ifndef SHEAF_ZIP_SONAME
#define SHEAF_ZIP_SONAME "libzip.so.4"
#endif

#define SYM(f) { "zip_" #f, &Z.f }
static const struct dynlib_sym zip_syms[] = {
	SYM(discard),
	SYM(error_code_zip),
	SYM(error_fini),
	SYM(error_init),
	SYM(error_strerror),
	SYM(fclose),
	SYM(file_strerror),
	SYM(fopen_index),
	SYM(fread),
	SYM(name_locate),
	SYM(open_from_source),
	SYM(source_buffer_create),
	SYM(source_file_create),
	SYM(source_free),
	SYM(stat_index),
	SYM(stat_init),
	SYM(strerror),
};
#undef SYM
static struct dynlib_lazy zip_lib = DYNLIB_LAZY(SHEAF_ZIP_SONAME, zip_syms);

/* 0 once libzip is there, or -1 with e set. */
static int libzip_ready(struct error *e)
{
	struct error why;
	if (dynlib_ready(&zip_lib, &why) < 0)
		return error_set(e, "cannot read XLSX: %s", why.msg);
	return 0;
}

enum numfmt_kind { FMT_PLAIN, FMT_DATE, FMT_DATETIME, FMT_TIME };

struct sheet {
	char *name;
	char *rid;
	char *path;   /* member name, resolved from the workbook rels */
};

struct rel {
	char *id, *type, *target;
};

struct xlsx {
	zip_t *za;
	struct xlsx_limits lim;
	bool date1904;
	struct sheet *sheets;
	size_t nsheets;
	char **sst;
	size_t nsst, sst_bytes;
	unsigned char *xf_kind;   /* per cellXfs index: enum numfmt_kind */
	size_t nxf;
	struct custom_fmt { unsigned id; unsigned char kind; } *fmts;
	size_t nfmts;
	struct rel *rels;
	size_t nrels;
	char *workbook;   /* member name of workbook.xml */
};

/* One member being parsed. */
struct parse {
	struct xlsx *x;
	XML_Parser p;
	const char *member;
	struct error *e;
	bool failed;
	uint64_t fed, progress;   /* bytes given to expat; position at the last callback */
};

static const char *local(const char *n)
{
	const char *c = strrchr(n, ':');
	return c ? c + 1 : n;
}

static const char *attr(const char **a, const char *name)
{
	for (; a[0]; a += 2)
		if (strcmp(local(a[0]), name) == 0)
			return a[1];
	return NULL;
}

static void stop(struct parse *ps)
{
	ps->failed = true;
	XML_StopParser(ps->p, XML_FALSE);
}

static int pfail(struct parse *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pfail(struct parse *ps, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!ps->failed)
		error_set(ps->e, "%s: %s", ps->member, msg);
	stop(ps);
	return -1;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal;
	pfail(ud, "DOCTYPE is not allowed");
}

static void XMLCALL on_default(void *ud, const XML_Char *s, int len)
{
	(void)s, (void)len;
	struct parse *ps = ud;
	ps->progress = ps->fed;
}

/* Inflates member index into expat with the handlers already set on ps->p. */
static int read_member(struct parse *ps, zip_int64_t index)
{
	struct xlsx *x = ps->x;
	zip_stat_t st;
	Z.stat_init(&st);
	if (Z.stat_index(x->za, (zip_uint64_t)index, 0, &st) != 0 ||
	    !(st.valid & ZIP_STAT_SIZE) || !(st.valid & ZIP_STAT_COMP_SIZE))
		return error_set(ps->e, "%s: cannot read its zip entry", ps->member);
	if (st.size > x->lim.max_member_bytes)
		return error_set(ps->e, "zip bomb: %s would inflate to %llu bytes, more than the "
				 "limit of %llu", ps->member, (unsigned long long)st.size,
				 (unsigned long long)x->lim.max_member_bytes);
	if (st.size > XLSX_RATIO_FLOOR && st.size / x->lim.max_ratio > st.comp_size)
		return error_set(ps->e, "zip bomb: %s would inflate %llu bytes to %llu, more than "
				 "%u times", ps->member, (unsigned long long)st.comp_size,
				 (unsigned long long)st.size, x->lim.max_ratio);
	zip_file_t *zf = Z.fopen_index(x->za, (zip_uint64_t)index, 0);
	if (!zf)
		return error_set(ps->e, "%s: cannot open: %s", ps->member, Z.strerror(x->za));
	XML_SetUserData(ps->p, ps);
	XML_SetStartDoctypeDeclHandler(ps->p, on_doctype);
	XML_SetDefaultHandlerExpand(ps->p, on_default);
	uint64_t ratio_cap = st.comp_size > UINT64_MAX / x->lim.max_ratio
				     ? UINT64_MAX : st.comp_size * x->lim.max_ratio;
	if (ratio_cap < XLSX_RATIO_FLOOR)
		ratio_cap = XLSX_RATIO_FLOOR;
	char *chunk = xmalloc(x->lim.read_chunk);
	int rc = 0;
	for (;;) {
		zip_int64_t n = Z.fread(zf, chunk, x->lim.read_chunk);
		if (n < 0) {
			rc = error_set(ps->e, "%s: cannot inflate: %s", ps->member,
				       Z.file_strerror(zf));
			break;
		}
		ps->fed += (uint64_t)n;
		if (ps->fed > x->lim.max_member_bytes || ps->fed > st.size) {
			rc = error_set(ps->e, "zip bomb: %s inflates past %llu bytes", ps->member,
				       (unsigned long long)(st.size < x->lim.max_member_bytes
							    ? st.size : x->lim.max_member_bytes));
			break;
		}
		if (ps->fed > ratio_cap) {
			rc = error_set(ps->e, "zip bomb: %s inflates more than %u times its "
				       "compressed size", ps->member, x->lim.max_ratio);
			break;
		}
		if (XML_Parse(ps->p, chunk, (int)n, n == 0) != XML_STATUS_OK) {
			if (!ps->failed)
				rc = error_set(ps->e, "%s: malformed XML at line %lu: %s",
					       ps->member,
					       (unsigned long)XML_GetCurrentLineNumber(ps->p),
					       XML_ErrorString(XML_GetErrorCode(ps->p)));
			rc = -1;
			break;
		}
		if (ps->failed) {
			rc = -1;
			break;
		}
		if (ps->fed - ps->progress > XLSX_MAX_TAG_BYTES) {
			rc = error_set(ps->e, "%s: a tag, comment or text longer than %u bytes",
				       ps->member, XLSX_MAX_TAG_BYTES);
			break;
		}
		if (n == 0)
			break;
	}
	free(chunk);
	Z.fclose(zf);
	return rc;
}

/* Parses member name (optional: a missing one is 0 when !required). */
static int parse_member(struct xlsx *x, const char *name, bool required, struct parse *ps,
			struct error *e)
{
	ps->x = x;
	ps->member = name;
	ps->e = e;
	zip_int64_t idx = Z.name_locate(x->za, name, 0);
	if (idx < 0)
		return required ? error_set(e, "not an XLSX workbook: no %s", name) : 0;
	return read_member(ps, idx);
}

static XML_Parser new_parser(struct parse *ps)
{
	memset(ps, 0, sizeof *ps);
	ps->p = XML_ParserCreate("UTF-8");
	if (!ps->p)
		abort();
	return ps->p;
}

/* Relationship parts (_rels/.rels, xl/_rels/workbook.xml.rels): id, type and
 * target of each <Relationship>. */
struct rels_ctx {
	struct parse ps;
	struct rel *rels;
	size_t n;
};

static void XMLCALL rels_start(void *ud, const XML_Char *name, const XML_Char **a)
{
	struct rels_ctx *c = ud;
	c->ps.progress = c->ps.fed;
	if (strcmp(local(name), "Relationship") != 0)
		return;
	const char *id = attr(a, "Id"), *type = attr(a, "Type"), *target = attr(a, "Target");
	if (!id || !type || !target)
		return;
	if (c->n >= 10000) {
		pfail(&c->ps, "more than 10000 relationships");
		return;
	}
	c->rels = xrealloc(c->rels, (c->n + 1) * sizeof *c->rels);
	c->rels[c->n++] = (struct rel){ xstrdup(id), xstrdup(type), xstrdup(target) };
}

static void XMLCALL any_end(void *ud, const XML_Char *name)
{
	(void)name;
	struct parse *ps = ud;
	ps->progress = ps->fed;
}

static void free_rels(struct rel *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].id);
		free(r[i].type);
		free(r[i].target);
	}
	free(r);
}

static int read_rels(struct xlsx *x, const char *member, bool required, struct rel **out,
		     size_t *nout, struct error *e)
{
	struct rels_ctx c;
	memset(&c, 0, sizeof c);
	XML_Parser p = new_parser(&c.ps);
	XML_SetElementHandler(p, rels_start, any_end);
	int rc = parse_member(x, member, required, &c.ps, e);
	XML_ParserFree(p);
	if (rc) {
		free_rels(c.rels, c.n);
		return -1;
	}
	*out = c.rels;
	*nout = c.n;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Target relative to the directory of base (a member name), or absolute
 * with a leading '/'; ".." steps up.  Returns a new member name or NULL. */
static char *resolve(const char *base, const char *target)
{
	struct buf b;
	buf_init(&b, 4096);
	if (target[0] == '/') {
		target++;
	} else {
		const char *slash = strrchr(base, '/');
		if (slash && buf_append(&b, base, (size_t)(slash - base + 1)))
			goto bad;
	}
	while (*target) {
		const char *end = strchr(target, '/');
		size_t n = end ? (size_t)(end - target) : strlen(target);
		if (n == 2 && target[0] == '.' && target[1] == '.') {
			if (b.len == 0)
				goto bad;
			b.len--;
			while (b.len && b.data[b.len - 1] != '/')
				b.len--;
			b.data[b.len] = '\0';
		} else if (!(n == 1 && target[0] == '.') && n > 0) {
			if (buf_append(&b, target, n) || (end && buf_puts(&b, "/")))
				goto bad;
		}
		target += n + (end ? 1 : 0);
	}
	if (b.len == 0)
		goto bad;
	return buf_detach(&b);
bad:
	buf_free(&b);
	return NULL;
}

/* workbook.xml: the sheets in order and the date system. */
struct wb_ctx {
	struct parse ps;
};

static void XMLCALL wb_start(void *ud, const XML_Char *name, const XML_Char **a)
{
	struct wb_ctx *c = ud;
	struct xlsx *x = c->ps.x;
	c->ps.progress = c->ps.fed;
	const char *n = local(name);
	if (strcmp(n, "workbookPr") == 0) {
		const char *d = attr(a, "date1904");
		x->date1904 = d && (strcmp(d, "1") == 0 || strcmp(d, "true") == 0);
	} else if (strcmp(n, "sheet") == 0) {
		const char *sn = attr(a, "name"), *rid = attr(a, "id");
		if (!sn || !rid) {
			pfail(&c->ps, "a sheet without name or r:id");
			return;
		}
		if (x->nsheets >= x->lim.max_sheets) {
			pfail(&c->ps, "more than %zu sheets", x->lim.max_sheets);
			return;
		}
		x->sheets = xrealloc(x->sheets, (x->nsheets + 1) * sizeof *x->sheets);
		x->sheets[x->nsheets++] = (struct sheet){ xstrdup(sn), xstrdup(rid), NULL };
	}
}

/* sharedStrings.xml: each <si> is one string, its <t> texts (plain or in
 * rich runs) joined. */
struct sst_ctx {
	struct parse ps;
	struct buf text;
	bool in_si, in_t;
	int rph;   /* depth inside <rPh> (phonetic run: not part of the text) */
};

static void XMLCALL sst_start(void *ud, const XML_Char *name, const XML_Char **a)
{
	(void)a;
	struct sst_ctx *c = ud;
	struct xlsx *x = c->ps.x;
	c->ps.progress = c->ps.fed;
	const char *n = local(name);
	if (c->rph) {
		c->rph++;
	} else if (strcmp(n, "si") == 0) {
		if (x->nsst >= x->lim.max_shared_strings) {
			pfail(&c->ps, "more than %zu shared strings", x->lim.max_shared_strings);
			return;
		}
		c->in_si = true;
		buf_reset(&c->text);
		buf_puts(&c->text, "");
	} else if (strcmp(n, "rPh") == 0) {
		c->rph = 1;
	} else if (strcmp(n, "t") == 0 && c->in_si) {
		c->in_t = true;
	}
}

static void XMLCALL sst_end(void *ud, const XML_Char *name)
{
	struct sst_ctx *c = ud;
	struct xlsx *x = c->ps.x;
	c->ps.progress = c->ps.fed;
	const char *n = local(name);
	if (c->rph) {
		c->rph--;
	} else if (strcmp(n, "t") == 0) {
		c->in_t = false;
	} else if (strcmp(n, "si") == 0 && c->in_si) {
		c->in_si = false;
		if (x->sst_bytes + c->text.len > x->lim.max_shared_bytes) {
			pfail(&c->ps, "shared strings longer than %zu bytes in total",
			      x->lim.max_shared_bytes);
			return;
		}
		x->sst_bytes += c->text.len;
		if ((x->nsst & (x->nsst - 1)) == 0)
			x->sst = xrealloc(x->sst, (x->nsst ? x->nsst * 2 : 1) * sizeof *x->sst);
		size_t len = c->text.data ? sheet_decode_escapes(c->text.data, c->text.len) : 0;
		x->sst[x->nsst++] = xstrndup(c->text.data ? c->text.data : "", len);
	}
}

static void XMLCALL sst_text(void *ud, const XML_Char *s, int len)
{
	struct sst_ctx *c = ud;
	c->ps.progress = c->ps.fed;
	if (c->in_t && !c->rph && buf_append(&c->text, s, (size_t)len))
		pfail(&c->ps, "shared string %zu longer than %zu bytes", c->ps.x->nsst,
		      c->ps.x->lim.max_cell_bytes);
}

/* Kind of a custom number format code: y, m, d (date) or h, s (time) outside
 * "quoted text", [brackets] (colours, conditions, elapsed time), \escapes
 * and the _x / *x padding directives. */
static enum numfmt_kind classify_format(const char *f)
{
	bool date = false, time = false;
	/* "m" is minutes right after an hour or right before seconds (h:mm,
	 * mm:ss), else months.  last: the previous code letter, lowered. */
	char last = 0;
	for (const char *p = f; *p; p++) {
		char lower = (char)(*p | 0x20);
		if (lower == 'm') {
			const char *q = p;
			while (q[1] == 'm' || q[1] == 'M')
				q++;
			const char *n = q + 1;
			while (*n && strchr(":. ", *n))
				n++;
			if (last == 'h' || (*n | 0x20) == 's')
				time = true;
			else
				date = true;
			p = q;
			last = 'm';
			continue;
		}
		switch (*p) {
		case '"':
			while (p[1] && p[1] != '"')
				p++;
			if (p[1])
				p++;
			break;
		case '[':
			while (p[1] && p[1] != ']')
				p++;
			if (p[1])
				p++;
			break;
		case '\\': case '_': case '*':
			if (p[1])
				p++;
			break;
		case 'y': case 'Y': case 'd': case 'D':
			date = true;
			last = lower;
			break;
		case 'h': case 'H': case 's': case 'S':
			time = true;
			last = lower;
			break;
		default:
			break;
		}
	}
	return time && date ? FMT_DATETIME : date ? FMT_DATE : time ? FMT_TIME : FMT_PLAIN;
}

static enum numfmt_kind builtin_kind(unsigned id)
{
	if (id >= 14 && id <= 17)
		return FMT_DATE;
	if (id == 22)
		return FMT_DATETIME;
	if ((id >= 18 && id <= 21) || (id >= 45 && id <= 47))
		return FMT_TIME;
	return FMT_PLAIN;
}

struct styles_ctx {
	struct parse ps;
	bool in_cellxfs;
};

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}

static void XMLCALL styles_start(void *ud, const XML_Char *name, const XML_Char **a)
{
	struct styles_ctx *c = ud;
	struct xlsx *x = c->ps.x;
	c->ps.progress = c->ps.fed;
	const char *n = local(name);
	unsigned long id;
	if (strcmp(n, "numFmt") == 0) {
		const char *code = attr(a, "formatCode");
		if (!parse_uint(attr(a, "numFmtId"), 100000, &id) || !code)
			return;
		if (x->nfmts >= 4096) {   /* Excel keeps about 250 */
			pfail(&c->ps, "more than 4096 number formats");
			return;
		}
		x->fmts = xrealloc(x->fmts, (x->nfmts + 1) * sizeof *x->fmts);
		x->fmts[x->nfmts++] = (struct custom_fmt){ (unsigned)id,
							   (unsigned char)classify_format(code) };
	} else if (strcmp(n, "cellXfs") == 0) {
		c->in_cellxfs = true;
	} else if (strcmp(n, "xf") == 0 && c->in_cellxfs) {
		if (x->nxf >= 65536) {   /* Excel's own limit is 64000 */
			pfail(&c->ps, "more than 65536 cell styles");
			return;
		}
		enum numfmt_kind k = FMT_PLAIN;
		if (parse_uint(attr(a, "numFmtId"), 100000, &id)) {
			k = builtin_kind((unsigned)id);
			for (size_t i = x->nfmts; i-- > 0;)
				if (x->fmts[i].id == id) {
					k = x->fmts[i].kind;
					break;
				}
		}
		x->xf_kind = xrealloc(x->xf_kind, x->nxf + 1);
		x->xf_kind[x->nxf++] = (unsigned char)k;
	}
}

static void XMLCALL styles_end(void *ud, const XML_Char *name)
{
	struct styles_ctx *c = ud;
	c->ps.progress = c->ps.fed;
	if (strcmp(local(name), "cellXfs") == 0)
		c->in_cellxfs = false;
}

static void fill_limits(struct xlsx_limits *l, const struct xlsx_limits *in)
{
	struct xlsx_limits z = { 0 };
	*l = in ? *in : z;
	if (!l->max_member_bytes) l->max_member_bytes = XLSX_DEFAULT_MEMBER_BYTES;
	if (!l->max_ratio) l->max_ratio = XLSX_DEFAULT_RATIO;
	if (!l->max_shared_strings) l->max_shared_strings = XLSX_DEFAULT_SHARED_STRINGS;
	if (!l->max_shared_bytes) l->max_shared_bytes = XLSX_DEFAULT_SHARED_BYTES;
	if (!l->max_columns) l->max_columns = XLSX_DEFAULT_COLUMNS;
	if (!l->max_cell_bytes) l->max_cell_bytes = XLSX_DEFAULT_CELL_BYTES;
	if (!l->max_row_bytes) l->max_row_bytes = XLSX_DEFAULT_ROW_BYTES;
	if (!l->max_sheets) l->max_sheets = XLSX_DEFAULT_SHEETS;
	if (!l->read_chunk) l->read_chunk = XLSX_DEFAULT_READ_CHUNK;
	if (l->read_chunk > (size_t)1 << 30)
		l->read_chunk = (size_t)1 << 30;   /* XML_Parse takes an int */
	if (l->max_columns > XLSX_DEFAULT_COLUMNS)
		l->max_columns = XLSX_DEFAULT_COLUMNS;   /* XFD is the last column Excel has */
}

static const char *find_rel(struct rel *r, size_t n, const char *type_suffix, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if ((type_suffix && ends_with(r[i].type, type_suffix)) ||
		    (id && strcmp(r[i].id, id) == 0))
			return r[i].target;
	return NULL;
}

static int load(struct xlsx *x, struct error *e)
{
	struct rel *pkg = NULL;
	size_t npkg = 0;
	if (read_rels(x, "_rels/.rels", false, &pkg, &npkg, e))
		return -1;
	const char *wbt = find_rel(pkg, npkg, "/officeDocument", NULL);
	x->workbook = wbt ? resolve("", wbt) : xstrdup("xl/workbook.xml");
	free_rels(pkg, npkg);
	if (!x->workbook)
		return error_set(e, "_rels/.rels: bad workbook target");

	struct wb_ctx wb;
	XML_Parser p = new_parser(&wb.ps);
	XML_SetElementHandler(p, wb_start, any_end);
	int rc = parse_member(x, x->workbook, true, &wb.ps, e);
	XML_ParserFree(p);
	if (rc)
		return -1;
	if (x->nsheets == 0)
		return error_set(e, "%s: the workbook has no sheets", x->workbook);

	const char *slash = strrchr(x->workbook, '/');
	struct buf rp;
	buf_init(&rp, 8192);
	if (slash)
		buf_append(&rp, x->workbook, (size_t)(slash - x->workbook + 1));
	buf_printf(&rp, "_rels/%s.rels", slash ? slash + 1 : x->workbook);
	rc = read_rels(x, rp.data ? rp.data : "", true, &x->rels, &x->nrels, e);
	buf_free(&rp);
	if (rc)
		return -1;
	for (size_t i = 0; i < x->nsheets; i++) {
		const char *t = find_rel(x->rels, x->nrels, NULL, x->sheets[i].rid);
		if (!t || !(x->sheets[i].path = resolve(x->workbook, t)))
			return error_set(e, "%s: sheet \"%s\" has no target", x->workbook,
					 x->sheets[i].name);
	}

	const char *st = find_rel(x->rels, x->nrels, "/sharedStrings", NULL);
	char *path = resolve(x->workbook, st ? st : "sharedStrings.xml");
	if (path) {
		struct sst_ctx sc;
		memset(&sc, 0, sizeof sc);
		p = new_parser(&sc.ps);
		buf_init(&sc.text, x->lim.max_cell_bytes);
		XML_SetElementHandler(p, sst_start, sst_end);
		XML_SetCharacterDataHandler(p, sst_text);
		rc = parse_member(x, path, false, &sc.ps, e);
		XML_ParserFree(p);
		buf_free(&sc.text);
		free(path);
		if (rc)
			return -1;
	}
	const char *sy = find_rel(x->rels, x->nrels, "/styles", NULL);
	path = resolve(x->workbook, sy ? sy : "styles.xml");
	if (path) {
		struct styles_ctx yc;
		memset(&yc, 0, sizeof yc);
		p = new_parser(&yc.ps);
		XML_SetElementHandler(p, styles_start, styles_end);
		rc = parse_member(x, path, false, &yc.ps, e);
		XML_ParserFree(p);
		free(path);
		if (rc)
			return -1;
	}
	return 0;
}

/* label: the file name, for errors reading it (NULL for a buffer). */
static struct xlsx *open_source(zip_source_t *src, const char *label,
				const struct xlsx_limits *lim, struct error *e)
{
	zip_error_t ze;
	Z.error_init(&ze);
	zip_t *za = Z.open_from_source(src, ZIP_RDONLY, &ze);
	if (!za) {
		int code = Z.error_code_zip(&ze);
		if (label && (code == ZIP_ER_NOENT || code == ZIP_ER_OPEN || code == ZIP_ER_READ))
			error_set(e, "cannot read %s: %s", label, Z.error_strerror(&ze));
		else
			error_set(e, "not an XLSX workbook: %s", Z.error_strerror(&ze));
		Z.error_fini(&ze);
		Z.source_free(src);
		return NULL;
	}
	Z.error_fini(&ze);
	struct xlsx *x = xcalloc(1, sizeof *x);
	x->za = za;
	fill_limits(&x->lim, lim);
	if (load(x, e)) {
		xlsx_close(x);
		return NULL;
	}
	return x;
}

struct xlsx *xlsx_open(const char *path, const struct xlsx_limits *lim, struct error *e)
{
	if (libzip_ready(e))
		return NULL;
	zip_error_t ze;
	Z.error_init(&ze);
	zip_source_t *src = Z.source_file_create(path, 0, -1, &ze);
	if (!src) {
		error_set(e, "%s: %s", path, Z.error_strerror(&ze));
		Z.error_fini(&ze);
		return NULL;
	}
	Z.error_fini(&ze);
	return open_source(src, path, lim, e);
}

struct xlsx *xlsx_open_buffer(const void *data, size_t len, const struct xlsx_limits *lim,
			      struct error *e)
{
	if (libzip_ready(e))
		return NULL;
	zip_error_t ze;
	Z.error_init(&ze);
	zip_source_t *src = Z.source_buffer_create(len ? data : "", len, 0, &ze);
	Z.error_fini(&ze);
	if (!src)
		return error_set(e, "cannot read the buffer"), NULL;
	return open_source(src, NULL, lim, e);
}

void xlsx_close(struct xlsx *x)
{
	if (!x)
		return;
	if (x->za)
		Z.discard(x->za);
	for (size_t i = 0; i < x->nsheets; i++) {
		free(x->sheets[i].name);
		free(x->sheets[i].rid);
		free(x->sheets[i].path);
	}
	free(x->sheets);
	for (size_t i = 0; i < x->nsst; i++)
		free(x->sst[i]);
	free(x->sst);
	free(x->xf_kind);
	free(x->fmts);
	free_rels(x->rels, x->nrels);
	free(x->workbook);
	free(x);
}

size_t xlsx_sheet_count(const struct xlsx *x)
{
	return x->nsheets;
}

const char *xlsx_sheet_name(const struct xlsx *x, size_t i)
{
	return i < x->nsheets ? x->sheets[i].name : NULL;
}

long xlsx_sheet_find(const struct xlsx *x, const char *name)
{
	for (size_t i = 0; i < x->nsheets; i++)
		if (strcmp(x->sheets[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* A sheet: cells collect into a row as expat reports them; at </row> the
 * row goes to the callback. */
enum ctype { CT_NUMBER, CT_SHARED, CT_INLINE, CT_STR, CT_BOOL, CT_ERROR, CT_DATE };

struct pcell {
	enum xlsx_type type;
	double number;
	const char *ext;     /* text outside the arena (shared string, literal) */
	size_t off, len;     /* else text in the row arena */
};

struct sheet_ctx {
	struct parse ps;
	const struct xlsx_callbacks *cb;
	void *ctx;
	uint32_t row;          /* current row number (0 before the first) */
	bool in_row, in_c, in_v, in_is, in_t;
	bool seen_v, seen_is;  /* the current cell has a <v> / an <is> */
	int rph;
	long col;              /* 0-based column of the current cell, -1 before the first */
	enum ctype ct;
	unsigned style;
	struct buf val;        /* <v> or inline text of the current cell */
	struct buf arena;      /* text of the row's cells */
	struct pcell *cells;
	size_t ncells, capcells;
	struct xlsx_cell *out;
	char ref[40];
};

/* Column index (0-based) from a reference like "AB12"; -1 when it is not
 * letters then digits or lies past max columns. */
static long parse_ref(const char *r, size_t max_columns)
{
	long col = 0;
	size_t letters = 0;
	for (; (*r >= 'A' && *r <= 'Z') || (*r >= 'a' && *r <= 'z'); r++) {
		if (++letters > 3)
			return -1;
		col = col * 26 + ((*r | 0x20) - 'a' + 1);
	}
	if (!letters || (size_t)col > max_columns)
		return -1;
	for (const char *p = r; *p; p++)
		if (*p < '0' || *p > '9' || p - r > 7)
			return -1;
	return col - 1;
}

static void copy_ref(struct sheet_ctx *c, const char *r)
{
	snprintf(c->ref, sizeof c->ref, "%s", r ? r : "?");
}

static void XMLCALL sheet_start(void *ud, const XML_Char *name, const XML_Char **a)
{
	struct sheet_ctx *c = ud;
	struct xlsx *x = c->ps.x;
	c->ps.progress = c->ps.fed;
	const char *n = local(name);
	if (c->rph) {
		c->rph++;
		return;
	}
	if (strcmp(n, "row") == 0) {
		unsigned long r;
		const char *ra = attr(a, "r");
		if (ra) {
			if (!parse_uint(ra, 1048576, &r) || r == 0) {
				pfail(&c->ps, "bad row number \"%.20s\"", ra);
				return;
			}
			if (r <= c->row) {
				pfail(&c->ps, "row %lu comes after row %u", r, c->row);
				return;
			}
		} else {
			r = c->row + 1;
			if (r > 1048576) {
				pfail(&c->ps, "more than 1048576 rows");
				return;
			}
		}
		c->row = (uint32_t)r;
		c->in_row = true;
		c->in_c = false;   /* a row inside a cell: the cell is dropped */
		c->col = -1;
		c->ncells = 0;
		buf_reset(&c->arena);
	} else if (strcmp(n, "c") == 0) {
		if (!c->in_row) {
			pfail(&c->ps, "a cell outside a row");
			return;
		}
		const char *ra = attr(a, "r");
		copy_ref(c, ra);
		long col = ra ? parse_ref(ra, x->lim.max_columns) : c->col + 1;
		if (col < 0 || (size_t)col >= x->lim.max_columns) {
			if (ra && parse_ref(ra, XLSX_DEFAULT_COLUMNS) >= 0)
				pfail(&c->ps, "cell %.15s: more than %zu columns", ra,
				      x->lim.max_columns);
			else
				pfail(&c->ps, "bad cell reference \"%.20s\" in row %u",
				      ra ? ra : "", c->row);
			return;
		}
		if (col <= c->col) {
			pfail(&c->ps, "cell %.15s is out of order in row %u", c->ref, c->row);
			return;
		}
		c->col = col;
		if (!ra)
			snprintf(c->ref, sizeof c->ref, "#%ld:%u", col + 1, c->row);
		const char *t = attr(a, "t");
		c->ct = !t || strcmp(t, "n") == 0 ? CT_NUMBER
			: strcmp(t, "s") == 0 ? CT_SHARED
			: strcmp(t, "inlineStr") == 0 ? CT_INLINE
			: strcmp(t, "str") == 0 ? CT_STR
			: strcmp(t, "b") == 0 ? CT_BOOL
			: strcmp(t, "e") == 0 ? CT_ERROR
			: strcmp(t, "d") == 0 ? CT_DATE : CT_NUMBER;
		if (t && c->ct == CT_NUMBER && strcmp(t, "n") != 0) {
			pfail(&c->ps, "cell %s: unknown type \"%.10s\"", c->ref, t);
			return;
		}
		unsigned long s = 0;
		c->style = parse_uint(attr(a, "s"), 1000000, &s) ? (unsigned)s : 0;
		c->in_c = true;
		buf_reset(&c->val);
		c->in_v = c->in_is = c->in_t = c->seen_v = c->seen_is = false;
	} else if (!c->in_c) {
		return;
	} else if (strcmp(n, "v") == 0) {
		c->in_v = c->seen_v = true;
	} else if (strcmp(n, "is") == 0) {
		c->in_is = c->seen_is = true;
	} else if (strcmp(n, "rPh") == 0) {
		c->rph = 1;
	} else if (strcmp(n, "t") == 0 && c->in_is) {
		c->in_t = true;
	}
}

static void XMLCALL sheet_text(void *ud, const XML_Char *s, int len)
{
	struct sheet_ctx *c = ud;
	c->ps.progress = c->ps.fed;
	if (c->rph || !(c->in_v || c->in_t))
		return;
	if (buf_append(&c->val, s, (size_t)len))
		pfail(&c->ps, "cell %s: text longer than %zu bytes", c->ref,
		      c->ps.x->lim.max_cell_bytes);
}

static int arena_put(struct sheet_ctx *c, struct pcell *pc, const char *s, size_t n)
{
	pc->ext = NULL;
	pc->off = c->arena.len;
	pc->len = n;
	if (buf_append(&c->arena, s, n) || buf_append(&c->arena, "", 1))
		return pfail(&c->ps, "row %u: more than %zu bytes of text", c->row,
			     c->ps.x->lim.max_row_bytes);
	return 0;
}

/* The finished cell <c> into c->cells. */
static void end_cell(struct sheet_ctx *c)
{
	struct xlsx *x = c->ps.x;
	const char *v = c->val.data ? c->val.data : "";
	struct pcell pc = { XLSX_EMPTY, 0, "", 0, 0 };
	/* A cell with only a style, or a formula without a cached value, is empty;
	 * an empty <v/> or <is/> is an empty string for the text types. */
	bool has = c->ct == CT_INLINE ? c->seen_is || c->seen_v
		   : c->ct == CT_STR || c->ct == CT_ERROR ? c->seen_v : c->val.len > 0;
	char num[64];
	if (has) {
		switch (c->ct) {
		case CT_NUMBER: {
			char *end;
			errno = 0;
			double d = strtod(v, &end);
			/* strtod also takes hex, "inf" and "nan"; XML Schema doubles do not */
			if (end == v || *end || !isfinite(d) || v[strspn(v, "0123456789+-.eE")]) {
				pfail(&c->ps, "cell %s: \"%.20s\" is not a number", c->ref, v);
				return;
			}
			enum numfmt_kind k = c->style < x->nxf ? x->xf_kind[c->style] : FMT_PLAIN;
			pc.number = d;
			if (k == FMT_TIME && d >= 0 && d <= SHEET_MAX_SERIAL) {
				pc.type = XLSX_TIME;
				sheet_format_time(d, num, sizeof num);
			} else if (k != FMT_PLAIN && k != FMT_TIME &&
				   sheet_format_serial(d, x->date1904, k == FMT_DATETIME, num,
						       sizeof num)) {
				pc.type = k == FMT_DATETIME ? XLSX_DATETIME : XLSX_DATE;
			} else {
				pc.type = XLSX_NUMBER;
				sheet_format_number(d, num, sizeof num);
			}
			if (arena_put(c, &pc, num, strlen(num)))
				return;
			break;
		}
		case CT_SHARED: {
			unsigned long i;
			if (!parse_uint(v, (unsigned long)-1, &i) || i >= x->nsst) {
				pfail(&c->ps, "cell %s: shared string \"%.20s\" does not exist",
				      c->ref, v);
				return;
			}
			pc.type = XLSX_STRING;
			pc.ext = x->sst[i];
			break;
		}
		case CT_BOOL:
			if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0 && strcmp(v, "true") != 0 &&
			    strcmp(v, "false") != 0) {
				pfail(&c->ps, "cell %s: \"%.20s\" is not a boolean", c->ref, v);
				return;
			}
			pc.type = XLSX_BOOL;
			pc.number = v[0] == '1' || v[0] == 't';
			pc.ext = pc.number ? "true" : "false";
			break;
		case CT_DATE:
			pc.type = strchr(v, 'T') ? XLSX_DATETIME : XLSX_DATE;
			if (arena_put(c, &pc, v, c->val.len))
				return;
			break;
		case CT_ERROR:
		case CT_INLINE:
		case CT_STR: {
			pc.type = c->ct == CT_ERROR ? XLSX_ERROR : XLSX_STRING;
			size_t n = c->ct == CT_ERROR || !c->val.data
					   ? c->val.len
					   : sheet_decode_escapes(c->val.data, c->val.len);
			if (arena_put(c, &pc, v, n))
				return;
			break;
		}
		}
	}
	if (pc.type == XLSX_EMPTY)
		return;   /* filled in at the end of the row */
	size_t need = (size_t)c->col + 1;
	if (need > c->capcells) {
		size_t cap = c->capcells ? c->capcells : 16;
		while (cap < need)
			cap *= 2;
		c->cells = xrealloc(c->cells, cap * sizeof *c->cells);
		c->out = xrealloc(c->out, cap * sizeof *c->out);
		c->capcells = cap;
	}
	for (size_t i = c->ncells; i < need; i++)
		c->cells[i] = (struct pcell){ XLSX_EMPTY, 0, "", 0, 0 };
	c->cells[c->col] = pc;
	c->ncells = need;
}

static void XMLCALL sheet_end(void *ud, const XML_Char *name)
{
	struct sheet_ctx *c = ud;
	c->ps.progress = c->ps.fed;
	const char *n = local(name);
	if (c->rph) {
		c->rph--;
		return;
	}
	if (strcmp(n, "c") == 0 && c->in_c) {
		c->in_c = false;
		end_cell(c);
	} else if (strcmp(n, "v") == 0) {
		c->in_v = false;
	} else if (strcmp(n, "t") == 0) {
		c->in_t = false;
	} else if (strcmp(n, "is") == 0) {
		c->in_is = false;
	} else if (strcmp(n, "row") == 0 && c->in_row) {
		c->in_row = false;
		for (size_t i = 0; i < c->ncells; i++) {
			struct pcell *pc = &c->cells[i];
			c->out[i] = (struct xlsx_cell){ pc->type,
							pc->ext ? pc->ext : c->arena.data + pc->off,
							pc->number };
		}
		if (c->cb && c->cb->row && c->cb->row(c->ctx, c->row, c->out, c->ncells) != 0)
			pfail(&c->ps, "stopped by the receiver at row %u", c->row);
	}
}

int xlsx_read_sheet(struct xlsx *x, size_t index, const struct xlsx_callbacks *cb, void *ctx,
		    struct error *e)
{
	if (index >= x->nsheets)
		return error_set(e, "no sheet %zu: the workbook has %zu", index + 1, x->nsheets);
	if (Z.name_locate(x->za, x->sheets[index].path, 0) < 0)
		return error_set(e, "sheet \"%s\": %s is missing", x->sheets[index].name,
				 x->sheets[index].path);
	struct sheet_ctx c;
	memset(&c, 0, sizeof c);
	XML_Parser p = new_parser(&c.ps);
	c.cb = cb;
	c.ctx = ctx;
	buf_init(&c.val, x->lim.max_cell_bytes);
	buf_init(&c.arena, x->lim.max_row_bytes);
	XML_SetElementHandler(p, sheet_start, sheet_end);
	XML_SetCharacterDataHandler(p, sheet_text);
	int rc = parse_member(x, x->sheets[index].path, true, &c.ps, e);
	XML_ParserFree(p);
	buf_free(&c.val);
	buf_free(&c.arena);
	free(c.cells);
	free(c.out);
	return rc;
}
