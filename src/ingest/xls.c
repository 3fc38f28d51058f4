/*
 * XLS reader: FreeXL parses the file, this turns its cells into the
 * xlsx.h conventions; see xls.h.
 *
 * xls_open checks what FreeXL does not (the file's size and signature, and
 * the directory entries FreeXL would read past), opens it, rejects
 * encrypted workbooks and copies the sheet names.
 * xls_read_sheet walks the selected sheet's declared grid (FreeXL keeps
 * it as an array, so each cell is a lookup) and builds one row at a time
 * in an arena bounded by max_row_bytes.
 */
#include "ingest/xls.h"
#include "ingest/sheetval.h"

#include <errno.h>
#include <freexl.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/buf.h"


struct xls {
	const void *fx;            /* FreeXL handle */
	struct xls_limits lim;
	bool date1904;
	char **names;
	size_t nsheets;
};

static void fill_limits(struct xls_limits *l, const struct xls_limits *in)
{
	struct xls_limits z = { 0 };
	*l = in ? *in : z;
	if (!l->max_file_bytes) l->max_file_bytes = XLS_DEFAULT_FILE_BYTES;
	if (!l->max_rows || l->max_rows > XLS_DEFAULT_ROWS) l->max_rows = XLS_DEFAULT_ROWS;
	if (!l->max_columns || l->max_columns > XLS_DEFAULT_COLUMNS)
		l->max_columns = XLS_DEFAULT_COLUMNS;
	if (!l->max_cell_bytes) l->max_cell_bytes = XLS_DEFAULT_CELL_BYTES;
	if (!l->max_row_bytes) l->max_row_bytes = XLS_DEFAULT_ROW_BYTES;
	if (!l->max_sheets) l->max_sheets = XLS_DEFAULT_SHEETS;
}

/* What a FreeXL error code means, for the person who sent the file. */
static const char *fx_error(int rc)
{
	switch (rc) {
	case FREEXL_FILE_NOT_FOUND:
		return "cannot read the file";
	case FREEXL_INSUFFICIENT_MEMORY:
		return "too large: a sheet declares more cells than FreeXL holds (256 MiB), "
		       "or memory ran out";
	case FREEXL_INVALID_CFBF_HEADER:
	case FREEXL_CFBF_INVALID_SIGNATURE:
		return "not an XLS file: no valid compound-file header";
	case FREEXL_CFBF_INVALID_SECTOR_SIZE:
		return "corrupt XLS file: bad sector size in the compound-file header";
	case FREEXL_CFBF_READ_ERROR:
	case FREEXL_CFBF_SEEK_ERROR:
		return "corrupt XLS file: truncated, or its sector table points past the end";
	case FREEXL_CFBF_EMPTY_FAT_CHAIN:
	case FREEXL_CFBF_ILLEGAL_FAT_ENTRY:
		return "corrupt XLS file: broken sector allocation table";
	case FREEXL_INVALID_MINI_STREAM:
	case FREEXL_CFBF_ILLEGAL_MINI_FAT_ENTRY:
		return "corrupt XLS file: broken mini stream";
	case FREEXL_BIFF_WORKBOOK_NOT_FOUND:
		return "not an XLS file: a compound file without a Workbook stream "
		       "(another Office document?)";
	case FREEXL_BIFF_INVALID_BOF:
		return "corrupt XLS file: a BIFF stream that does not start with a BOF record "
		       "(or a BIFF version FreeXL does not read)";
	case FREEXL_BIFF_INVALID_SST:
	case FREEXL_BIFF_ILLEGAL_SST_INDEX:
		return "corrupt XLS file: broken shared-string table";
	case FREEXL_INVALID_CHARACTER:
		return "corrupt XLS file: text that is not valid in the workbook's encoding";
	case FREEXL_UNSUPPORTED_CHARSET:
		return "unsupported XLS file: its code page cannot be converted to UTF-8";
	case FREEXL_ILLEGAL_CELL_ROW_COL:
		return "corrupt XLS file: a cell outside its sheet's declared dimensions";
	case FREEXL_ILLEGAL_RK_VALUE:
		return "corrupt XLS file: a malformed RK number";
	case FREEXL_CRAFTED_FILE:
		return "corrupt XLS file: FreeXL found records that cannot be right "
		       "(possibly crafted)";
	default:
		return "corrupt XLS file: FreeXL could not read it";
	}
}

/* The globals BOF record (BIFF8, then BIFF5) followed by a FILEPASS record:
 * how an encrypted workbook starts.  Only used to explain a failed open:
 * FreeXL's own flag is lost with its handle. */
static bool has_filepass(FILE *f)
{
	static const unsigned char bof8[] = { 0x09, 0x08, 0x10, 0x00, 0x00, 0x06, 0x05, 0x00 };
	static const unsigned char bof5[] = { 0x09, 0x08, 0x08, 0x00, 0x00, 0x05, 0x05, 0x00 };
	enum { CHUNK = 64 * 1024, KEEP = 32 };
	unsigned char *b = xmalloc(CHUNK + KEEP);
	size_t have = 0;
	bool found = false;
	rewind(f);
	for (;;) {
		size_t n = fread(b + have, 1, CHUNK, f);
		have += n;
		for (size_t i = 0; !found && i + 24 <= have; i++) {
			if (memcmp(b + i, bof8, 8) == 0 && b[i + 20] == 0x2f && b[i + 21] == 0)
				found = true;
			else if (memcmp(b + i, bof5, 8) == 0 && b[i + 12] == 0x2f && b[i + 13] == 0)
				found = true;
		}
		if (found || n == 0)
			break;
		if (have > KEEP) {
			memmove(b, b + have - KEEP, KEEP);
			have = KEEP;
		}
	}
	free(b);
	return found;
}

static unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* FreeXL (1.0.6) finds the Workbook stream in the first directory sector
 * only, converting each entry's name with the length the entry declares: a
 * length past the 64-byte name field reads beyond its stack buffer.  This
 * walks the same entries the same way (the sector offset wraps as FreeXL's
 * unsigned arithmetic does) and refuses such a length; anything else wrong
 * there is left to FreeXL to report. */
static int check_directory(FILE *f, struct error *e)
{
	unsigned char h[512], dir[4096];
	if (fseek(f, 0, SEEK_SET) != 0 || fread(h, 1, sizeof h, f) != sizeof h)
		return 0;
	unsigned shift = le16(h + 0x1e);
	if (shift != 9 && shift != 12)
		return 0;
	uint32_t ssz = 1u << shift;
	uint32_t where = (le32(h + 0x30) + 1u) * ssz;
	if (fseek(f, (long)where, SEEK_SET) != 0 || fread(dir, 1, ssz, f) != ssz)
		return 0;
	for (uint32_t off = 0; off < ssz; off += 128) {
		const unsigned char *entry = dir + off;
		unsigned len = le16(entry + 64);
		if (len > 64)
			return error_set(e, "corrupt XLS file: a directory entry declares a %u-byte "
					 "name (at most 64)", len);
		char name[33];
		unsigned n = 0;
		while (n < len / 2 && n < 32 && entry[2 * n] && !entry[2 * n + 1]) {
			name[n] = (char)entry[2 * n];
			n++;
		}
		name[n] = '\0';
		/* FreeXL stops at the first of these with a start sector */
		if ((strcmp(name, "Workbook") == 0 || strcmp(name, "Book") == 0) &&
		    le32(entry + 0x74) != 0xffffffffu)
			break;
	}
	return 0;
}

/* Checks what FreeXL does not: that path is a readable file within the
 * size limit that starts like an XLS workbook.  On a failed open, tells
 * an encrypted workbook apart. */
static int precheck(const char *path, const struct xls_limits *lim, struct error *e)
{
	static const unsigned char cfbf[8] = { 0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return error_set(e, "cannot read %s: %s", path, strerror(errno));
	struct stat st;
	unsigned char head[8] = { 0 };
	size_t n = 0;
	int rc = 0;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = error_set(e, "cannot read %s: not a regular file", path);
	} else if ((uint64_t)st.st_size > lim->max_file_bytes) {
		rc = error_set(e, "too large: %s is %llu bytes, more than the limit of %llu", path,
			       (unsigned long long)st.st_size,
			       (unsigned long long)lim->max_file_bytes);
	} else if ((n = fread(head, 1, sizeof head, f)) == 0) {
		rc = error_set(e, "not an XLS file: %s is empty", path);
	} else if (n == sizeof head && memcmp(head, cfbf, sizeof head) == 0) {
		rc = check_directory(f, e);
	} else if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) {
		rc = error_set(e, "not an XLS file: it is a zip archive (an XLSX workbook "
			       "named .xls?)");
	} else if (n >= 2 && head[0] == 0x09 && (head[1] == 0x00 || head[1] == 0x02 ||
						 head[1] == 0x04)) {
		rc = 0;   /* a bare BIFF2-4 stream (Excel 2.x-4.0): FreeXL reads those too */
	} else {
		rc = error_set(e, "not an XLS file: no compound-file signature");
	}
	fclose(f);
	return rc;
}

static bool encrypted(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool yes = has_filepass(f);
	fclose(f);
	return yes;
}

struct xls *xls_open(const char *path, const struct xls_limits *lim, struct error *e)
{
	struct xls_limits l;
	fill_limits(&l, lim);
	if (precheck(path, &l, e))
		return NULL;
	const void *fx = NULL;
	int rc = freexl_open(path, &fx);
	if (rc != FREEXL_OK || !fx) {
		/* FreeXL frees the handle on failure, sometimes returning FREEXL_OK with
		 * it (a bad DIMENSION); its error code is then lost. */
		if (fx)
			freexl_close(fx);
		if (encrypted(path))
			error_set(e, "password-protected workbook: encrypted XLS files cannot "
				  "be read");
		else if (rc == FREEXL_OK)
			error_set(e, "corrupt XLS file: a sheet's declared dimensions are wrong or "
				  "larger than FreeXL holds (256 MiB of cells)");
		else
			error_set(e, "%s", fx_error(rc));
		return NULL;
	}
	struct xls *x = xcalloc(1, sizeof *x);
	x->fx = fx;
	x->lim = l;
	unsigned info = 0;
	if (freexl_get_info(fx, FREEXL_BIFF_PASSWORD, &info) == FREEXL_OK &&
	    info == FREEXL_BIFF_OBFUSCATED) {
		error_set(e, "password-protected workbook: encrypted XLS files cannot be read");
		goto fail;
	}
	if (freexl_get_info(fx, FREEXL_BIFF_DATEMODE, &info) == FREEXL_OK)
		x->date1904 = info == FREEXL_BIFF_DATEMODE_1904;
	if (freexl_get_info(fx, FREEXL_BIFF_SHEET_COUNT, &info) != FREEXL_OK || info == 0) {
		error_set(e, "corrupt XLS file: the workbook has no sheets");
		goto fail;
	}
	if (info > l.max_sheets) {
		error_set(e, "more than %zu sheets", l.max_sheets);
		goto fail;
	}
	x->names = xcalloc(info, sizeof *x->names);
	for (unsigned i = 0; i < info; i++) {
		const char *name = NULL;
		if (freexl_get_worksheet_name(fx, (unsigned short)i, &name) != FREEXL_OK) {
			error_set(e, "corrupt XLS file: sheet %u has no name", i + 1);
			goto fail;
		}
		x->names[i] = xstrdup(name ? name : "");
		x->nsheets++;
	}
	return x;
fail:
	xls_close(x);
	return NULL;
}

void xls_close(struct xls *x)
{
	if (!x)
		return;
	if (x->fx)
		freexl_close(x->fx);
	for (size_t i = 0; i < x->nsheets; i++)
		free(x->names[i]);
	free(x->names);
	free(x);
}

size_t xls_sheet_count(const struct xls *x)
{
	return x->nsheets;
}

const char *xls_sheet_name(const struct xls *x, size_t i)
{
	return i < x->nsheets ? x->names[i] : NULL;
}

long xls_sheet_find(const struct xls *x, const char *name)
{
	for (size_t i = 0; i < x->nsheets; i++)
		if (strcmp(x->names[i], name) == 0)
			return (long)i;
	return -1;
}


/* Days from 1900-01-01 to y-m-d in FreeXL's calendar, where every year
 * divisible by 4 is a leap year (so 1900-02-29 exists, as in Excel, and so
 * does 2100-02-29, which Excel does not have).  -1 when the date does not
 * exist even there. */
static long long fx_days(long long y, int m, int d)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return -1;
	bool leap = y % 4 == 0;
	if (d > mdays[m - 1] + (m == 2 && leap))
		return -1;
	long long n = 365 * (y - 1900) + (y - 1900 + 3) / 4;
	for (int i = 1; i < m; i++)
		n += mdays[i - 1] + (i == 2 && leap);
	return n + d - 1;
}

/* Reads an unsigned decimal of 1..max_digits digits at *p. */
static bool read_uint(const char **p, int max_digits, long long *out)
{
	long long v = 0;
	int n = 0;
	while (**p >= '0' && **p <= '9' && n < max_digits) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	*out = v;
	return n > 0;
}

/* The serial behind FreeXL's "YYYY-MM-DD[ HH:MM:SS]".  FreeXL counts
 * (serial rounded down) - 1 days from 1900-01-01 (1900 system) or 1904-01-02
 * (1904 system), or none for serials below 1, and rounds the fraction to a
 * second, which may print as 24:00:00. */
static bool fx_serial(const char *t, bool with_time, bool date1904, double *serial)
{
	const char *p = t;
	long long y, m, d, hh = 0, mm = 0, ss = 0;
	if (!read_uint(&p, 10, &y) || *p++ != '-' || !read_uint(&p, 2, &m) || *p++ != '-' ||
	    !read_uint(&p, 2, &d))
		return false;
	if (with_time) {
		if (*p++ != ' ' || !read_uint(&p, 2, &hh) || *p++ != ':' || !read_uint(&p, 2, &mm) ||
		    *p++ != ':' || !read_uint(&p, 2, &ss) || hh > 24 || mm > 59 || ss > 59 ||
		    (hh == 24 && (mm || ss)))
			return false;
	}
	if (*p)
		return false;
	long long days = fx_days(y, (int)m, (int)d);
	long long base = date1904 ? fx_days(1904, 1, 2) : 0;
	if (days < base)
		return false;
	*serial = (double)(days - base + 1) + (double)(hh * 3600 + mm * 60 + ss) / 86400.0;
	return true;
}

/* Excel's name of a 0-based column: A, Z, AA, IV. */
static void col_name(size_t col, char *out, size_t cap)
{
	char tmp[16];
	size_t n = 0;
	for (size_t c = col + 1; c && n < sizeof tmp; c = (c - 1) / 26)
		tmp[n++] = (char)('A' + (c - 1) % 26);
	size_t i = 0;
	for (; n && i + 1 < cap; i++)
		out[i] = tmp[--n];
	out[i] = '\0';
}

struct pcell {
	enum xlsx_type type;
	double number;
	size_t off;   /* text in the row arena; EMPTY cells have none */
};

struct sheet_ctx {
	struct xls *x;
	const char *sheet;
	struct error *e;
	uint32_t row;          /* 1-based */
	size_t col;            /* 0-based */
	struct buf arena;
	struct pcell *cells;
	struct xlsx_cell *out;
};

static int cell_fail(struct sheet_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int cell_fail(struct sheet_ctx *c, const char *fmt, ...)
{
	char ref[24], msg[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	col_name(c->col, ref, sizeof ref);
	return error_set(c->e, "sheet \"%s\": cell %s%u: %s", c->sheet, ref, c->row, msg);
}

static int put_text(struct sheet_ctx *c, struct pcell *pc, const char *s)
{
	size_t n = strlen(s);
	if (n > c->x->lim.max_cell_bytes)
		return cell_fail(c, "text longer than %zu bytes", c->x->lim.max_cell_bytes);
	pc->off = c->arena.len;
	if (buf_append(&c->arena, s, n + 1))
		return error_set(c->e, "sheet \"%s\": row %u: more than %zu bytes of text",
				 c->sheet, c->row, c->x->lim.max_row_bytes);
	return 0;
}

/* One FreeXL cell into pc. */
static int convert(struct sheet_ctx *c, const FreeXL_CellValue *v, struct pcell *pc)
{
	char num[64];
	double serial;
	pc->type = XLSX_EMPTY;
	pc->number = 0;
	switch (v->type) {
	case FREEXL_CELL_NULL:
		return 0;
	case FREEXL_CELL_INT:
	case FREEXL_CELL_DOUBLE:
		pc->number = v->type == FREEXL_CELL_INT ? (double)v->value.int_value
							: v->value.double_value;
		if (!isfinite(pc->number))
			return cell_fail(c, "not a finite number");
		pc->type = XLSX_NUMBER;
		sheet_format_number(pc->number, num, sizeof num);
		return put_text(c, pc, num);
	case FREEXL_CELL_TEXT:
	case FREEXL_CELL_SST_TEXT:
		if (!v->value.text_value)
			return 0;   /* FreeXL's answer to a shared string that does not exist */
		pc->type = XLSX_STRING;
		return put_text(c, pc, v->value.text_value);
	case FREEXL_CELL_DATE:
	case FREEXL_CELL_DATETIME: {
		bool with_time = v->type == FREEXL_CELL_DATETIME;
		const char *t = v->value.text_value ? v->value.text_value : "";
		if (!fx_serial(t, with_time, c->x->date1904, &serial))
			return cell_fail(c, "FreeXL gave an unreadable date \"%.40s\"", t);
		pc->number = serial;
		if (sheet_format_serial(serial, c->x->date1904, with_time, num, sizeof num)) {
			pc->type = with_time ? XLSX_DATETIME : XLSX_DATE;
		} else {
			pc->type = XLSX_NUMBER;
			sheet_format_number(serial, num, sizeof num);
		}
		return put_text(c, pc, num);
	}
	case FREEXL_CELL_TIME: {
		const char *t = v->value.text_value ? v->value.text_value : "";
		if (strlen(t) != 8 || t[2] != ':' || t[5] != ':')
			return cell_fail(c, "FreeXL gave an unreadable time \"%.40s\"", t);
		pc->type = XLSX_STRING;
		return put_text(c, pc, strcmp(t, "24:00:00") == 0 ? "00:00:00" : t);
	}
	default:
		return cell_fail(c, "unknown FreeXL cell type %d", v->type);
	}
}

int xls_read_sheet(struct xls *x, size_t index, const struct xlsx_callbacks *cb, void *ctx,
		   struct error *e)
{
	if (index >= x->nsheets)
		return error_set(e, "no sheet %zu: the workbook has %zu", index + 1, x->nsheets);
	unsigned rows = 0;
	unsigned short cols = 0;
	if (freexl_select_active_worksheet(x->fx, (unsigned short)index) != FREEXL_OK ||
	    freexl_worksheet_dimensions(x->fx, &rows, &cols) != FREEXL_OK)
		return error_set(e, "sheet \"%s\": FreeXL cannot select it", x->names[index]);
	if (cols == 0)
		rows = 0;   /* FreeXL accepts any number of rows of nothing (its size check
			     * multiplies by the columns); 4e8 empty rows take seconds to walk */
	struct sheet_ctx c;
	memset(&c, 0, sizeof c);
	c.x = x;
	c.sheet = x->names[index];
	c.e = e;
	buf_init(&c.arena, x->lim.max_row_bytes);
	c.cells = xcalloc(cols ? cols : 1, sizeof *c.cells);
	c.out = xcalloc(cols ? cols : 1, sizeof *c.out);
	int rc = 0;
	for (unsigned r = 0; r < rows && rc == 0; r++) {
		size_t n = 0;   /* 1 + the last column with a value */
		buf_reset(&c.arena);
		c.row = r + 1;
		for (unsigned short col = 0; col < cols; col++) {
			FreeXL_CellValue v;
			c.col = col;
			if (freexl_get_cell_value(x->fx, r, col, &v) != FREEXL_OK) {
				rc = cell_fail(&c, "FreeXL cannot read it");
				break;
			}
			if ((rc = convert(&c, &v, &c.cells[col])) != 0)
				break;
			if (c.cells[col].type == XLSX_EMPTY)
				continue;
			if (col >= x->lim.max_columns) {
				rc = cell_fail(&c, "more than %zu columns", x->lim.max_columns);
				break;
			}
			if (c.row > x->lim.max_rows) {
				rc = error_set(e, "sheet \"%s\": row %u: more than %u rows", c.sheet,
					       c.row, x->lim.max_rows);
				break;
			}
			n = (size_t)col + 1;
		}
		if (rc || n == 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			struct pcell *pc = &c.cells[i];
			c.out[i] = (struct xlsx_cell){ pc->type,
						       pc->type == XLSX_EMPTY ? ""
									      : c.arena.data + pc->off,
						       pc->number };
		}
		if (cb && cb->row && cb->row(ctx, c.row, c.out, n) != 0)
			rc = error_set(e, "sheet \"%s\": stopped by the receiver at row %u", c.sheet,
				       c.row);
	}
	buf_free(&c.arena);
	free(c.cells);
	free(c.out);
	return rc;
}
