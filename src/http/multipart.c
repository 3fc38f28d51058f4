/*
 * multipart/form-data, one byte-level state machine; see multipart.h.
 *
 * The delimiter is searched with a prefix match whose first byte (CR, or LF
 * in LF mode) occurs nowhere else in it, because boundaries cannot contain
 * CR or LF: on a mismatch the bytes matched so far are all data and the
 * search restarts at the mismatching byte, with no backtracking table.  A
 * partial match at the end of a feed is remembered as a count only; if it
 * turns out not to be a delimiter, its bytes are handed over from the
 * parser's copy of the delimiter.  Part data is otherwise passed straight
 * from the caller's buffer, in runs as long as the feed allows.
 */
#include "http/multipart.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/utf8.h"

enum state {
	ST_PREAMBLE,   /* before the first delimiter */
	ST_AFTER,      /* "--" boundary matched; what follows decides */
	ST_DASH,       /* ... "-" */
	ST_CR,         /* ... CR */
	ST_PAD,        /* ... transport padding */
	ST_PAD_CR,     /* ... padding CR */
	ST_HEADER,     /* a part's header block */
	ST_HEADER_CR,
	ST_BODY,       /* a part's content */
	ST_EPILOGUE,   /* after the close delimiter */
	ST_FAILED,
};

struct multipart {
	struct multipart_limits lim;
	struct multipart_callbacks cb;
	void *ctx;
	enum state st;
	char *delim;        /* "\r\n--" boundary */
	size_t delim_len;
	const char *pat;    /* what is searched: delim, or delim + 1 (no CR) */
	size_t pat_len;
	size_t k;           /* bytes of pat matched so far */
	size_t held;        /* of those, how many came in earlier feeds */
	bool in_part;       /* part_begin was called, part_end not yet */
	size_t parts;       /* delimiters that opened a part */
	char *hdr;          /* header lines, each NUL-terminated, line ends dropped */
	size_t hdr_len;
	size_t hdr_raw;     /* header bytes received, line ends included */
	size_t line_start;
	struct error err;   /* why the parser failed */
};

static bool is_bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       strchr("'()+_,-./:=? ", c) != NULL;
}

static bool boundary_valid(const char *b)
{
	size_t n = strlen(b);
	if (n == 0 || n > MULTIPART_BOUNDARY_MAX || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_bchar((unsigned char)b[i]))
			return false;
	return true;
}

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Header parameters (";" name "=" value), parsed in place: names and values
 * become NUL-terminated strings inside the input.  Decoding a quoted-string
 * only ever shortens it, so the value is written over its own opening quote.
 */
struct params {
	char *p;
	bool need_sep;   /* a value was just read: only OWS, ";" or the end may follow */
};

/* 1 with *name and *value set, 0 at the end, -1 with *why on bad syntax. */
static int param_next(struct params *ps, char **name, char **value, const char **why)
{
	char *p = ps->p;
	for (;;) {
		while (is_ows(*p))
			p++;
		if (*p == '\0') {
			ps->p = p;
			return 0;
		}
		if (*p != ';')
			break;
		p++;
		ps->need_sep = false;
	}
	if (ps->need_sep) {
		*why = "expected ';' between parameters";
		return -1;
	}
	char *n = p;
	while (is_tchar((unsigned char)*p))
		p++;
	if (p == n || *p != '=') {
		*why = "malformed parameter";
		return -1;
	}
	*p++ = '\0';
	*name = n;
	if (*p == '"') {
		char *w = p, *r = p + 1;
		for (;; r++) {
			if (*r == '\0') {
				*why = "unterminated quoted string";
				return -1;
			}
			if (*r == '"')
				break;
			if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r;
		}
		*w = '\0';
		*value = p;
		p = r + 1;
		ps->need_sep = true;
	} else {
		char *v = p;
		while (*p && *p != ';' && *p != '"' && !is_ows(*p))
			p++;
		if (p == v) {
			*why = "empty parameter value";
			return -1;
		}
		char end = *p;
		if (end == '"') {
			*why = "stray quote in parameter value";
			return -1;
		}
		if (end)
			*p++ = '\0';
		ps->need_sep = end != ';';
		*value = v;
	}
	ps->p = p;
	return 1;
}

static char *trim(char *s)
{
	while (is_ows(*s))
		s++;
	size_t n = strlen(s);
	while (n && is_ows(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* The type/subtype (or disposition type) at the start of s: its length. */
static size_t leading_token(const char *s, bool slash)
{
	size_t n = 0;
	while (is_tchar((unsigned char)s[n]) || (slash && s[n] == '/'))
		n++;
	return n;
}

int multipart_boundary(const char *content_type, char *out, size_t cap, struct error *e)
{
	if (cap)
		out[0] = '\0';
	char *copy = xstrdup(content_type);
	char *s = trim(copy);
	int rc = -1;
	size_t tn = leading_token(s, true);
	if (tn != strlen("multipart/form-data") || strncasecmp(s, "multipart/form-data", tn) != 0 ||
	    (s[tn] && s[tn] != ';' && !is_ows(s[tn]))) {
		error_set(e, "the request is not multipart/form-data");
		goto out;
	}
	struct params ps = { s + tn, true };
	char *name, *value, *boundary = NULL;
	const char *why = NULL;
	int r;
	while ((r = param_next(&ps, &name, &value, &why)) > 0) {
		if (strcasecmp(name, "boundary") != 0)
			continue;
		if (boundary) {
			error_set(e, "the multipart Content-Type has two boundary parameters");
			goto out;
		}
		boundary = value;
	}
	if (r < 0) {
		error_set(e, "bad multipart Content-Type: %s", why);
		goto out;
	}
	if (!boundary) {
		error_set(e, "the multipart Content-Type has no boundary");
		goto out;
	}
	if (!boundary_valid(boundary)) {
		error_set(e, "the multipart boundary is not 1-70 valid characters");
		goto out;
	}
	size_t n = strlen(boundary);
	if (n + 1 > cap) {
		error_set(e, "the multipart boundary does not fit its buffer");
		goto out;
	}
	memcpy(out, boundary, n + 1);
	rc = 0;
out:
	free(copy);
	return rc;
}

struct multipart *multipart_new(const char *boundary, const struct multipart_limits *limits,
				const struct multipart_callbacks *cb, void *ctx)
{
	if (!boundary_valid(boundary))
		return NULL;
	struct multipart *mp = xcalloc(1, sizeof *mp);
	if (limits)
		mp->lim = *limits;
	if (!mp->lim.max_header_bytes)
		mp->lim.max_header_bytes = MULTIPART_DEFAULT_HEADER_BYTES;
	if (!mp->lim.max_parts)
		mp->lim.max_parts = MULTIPART_DEFAULT_PARTS;
	if (!mp->lim.max_name_bytes)
		mp->lim.max_name_bytes = MULTIPART_DEFAULT_NAME_BYTES;
	if (!mp->lim.max_filename_bytes)
		mp->lim.max_filename_bytes = MULTIPART_DEFAULT_FILENAME_BYTES;
	if (cb)
		mp->cb = *cb;
	mp->ctx = ctx;
	size_t n = strlen(boundary);
	mp->delim_len = n + 4;
	mp->delim = xmalloc(mp->delim_len + 1);
	memcpy(mp->delim, "\r\n--", 4);
	memcpy(mp->delim + 4, boundary, n + 1);
	mp->hdr = xmalloc(mp->lim.max_header_bytes);
	/* The body may start with the delimiter: search the preamble for LF
	 * "--" boundary as if a line had just ended. */
	mp->st = ST_PREAMBLE;
	mp->pat = mp->delim + 1;
	mp->pat_len = mp->delim_len - 1;
	mp->k = 1;
	return mp;
}

void multipart_free(struct multipart *mp)
{
	if (!mp)
		return;
	free(mp->delim);
	free(mp->hdr);
	free(mp);
}

/* Records why the parser failed ("multipart: " + the message, with "part N: "
 * when about part N), stops it, hands the message on; returns -1. */
static int vfail(struct multipart *mp, struct error *e, bool part, const char *fmt, va_list ap)
{
	int n = part ? snprintf(mp->err.msg, sizeof mp->err.msg, "multipart: part %zu: ", mp->parts)
		     : snprintf(mp->err.msg, sizeof mp->err.msg, "multipart: ");
	vsnprintf(mp->err.msg + n, sizeof mp->err.msg - (size_t)n, fmt, ap);
	mp->st = ST_FAILED;
	if (e)
		*e = mp->err;
	return -1;
}

static int fail(struct multipart *mp, struct error *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct multipart *mp, struct error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(mp, e, false, fmt, ap);
	va_end(ap);
	return -1;
}

static int part_fail(struct multipart *mp, struct error *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int part_fail(struct multipart *mp, struct error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(mp, e, true, fmt, ap);
	va_end(ap);
	return -1;
}

static int stopped(struct multipart *mp, struct error *e)
{
	return fail(mp, e, "stopped by the receiver");
}

static int emit(struct multipart *mp, const char *p, size_t n, struct error *e)
{
	if (n && mp->cb.part_data && mp->cb.part_data(mp->ctx, p, n) != 0)
		return stopped(mp, e);
	return 0;
}

static int end_part(struct multipart *mp, struct error *e)
{
	mp->in_part = false;
	if (mp->cb.part_end && mp->cb.part_end(mp->ctx) != 0)
		return stopped(mp, e);
	return 0;
}

/* A delimiter line ended (lf: with a bare LF): the current part, if any,
 * is complete and the next one's headers follow. */
static int delimiter_line(struct multipart *mp, bool lf, struct error *e)
{
	if (mp->in_part) {
		if (end_part(mp, e))
			return -1;
	} else {
		/* The first delimiter line: its line end is the body's. */
		mp->pat = lf ? mp->delim + 1 : mp->delim;
		mp->pat_len = lf ? mp->delim_len - 1 : mp->delim_len;
	}
	if (mp->parts >= mp->lim.max_parts)
		return fail(mp, e, "more than %zu parts (max_parts)", mp->lim.max_parts);
	mp->parts++;
	mp->st = ST_HEADER;
	mp->hdr_len = mp->hdr_raw = mp->line_start = 0;
	return 0;
}

/* What looked like a delimiter is not one.  In the preamble the search
 * just goes on; in a part, the delimiter and the extra byte (if any) are
 * data.  The current byte is then looked at again. */
static int not_delimiter(struct multipart *mp, const char *extra, struct error *e)
{
	mp->k = 0;
	if (!mp->in_part) {
		mp->st = ST_PREAMBLE;
		return 0;
	}
	mp->st = ST_BODY;
	if (emit(mp, mp->pat, mp->pat_len, e) || emit(mp, extra, strlen(extra), e))
		return -1;
	return 0;
}

/* Decodes an RFC 5987 ext-value (charset'language'pct-encoded) in place
 * into UTF-8.  Each non-ASCII byte arrives as three characters and becomes
 * at most two, so the result fits where the value was. */
static const char *ext_value_decode(char *v)
{
	char *q1 = strchr(v, '\'');
	char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	if (!q2)
		return "filename* is not charset'language'value";
	bool latin1;
	size_t cs = (size_t)(q1 - v);
	if (cs == 5 && strncasecmp(v, "UTF-8", 5) == 0)
		latin1 = false;
	else if (cs == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0)
		latin1 = true;
	else
		return "filename* charset is not UTF-8 or ISO-8859-1";
	char *w = v;
	for (const char *r = q2 + 1; *r; r++) {
		unsigned char c = (unsigned char)*r;
		if (c == '%') {
			static const char hex[] = "0123456789abcdef0123456789ABCDEF";
			const char *h1 = r[1] ? strchr(hex, r[1]) : NULL;
			const char *h2 = h1 && r[2] ? strchr(hex, r[2]) : NULL;
			if (!h2)
				return "bad percent-encoding in filename*";
			c = (unsigned char)((((h1 - hex) & 15) << 4) | ((h2 - hex) & 15));
			if (c == 0)
				return "NUL byte in filename*";
			r += 2;
		} else if (c >= 0x80 && latin1) {
			return "raw non-ASCII byte in an ISO-8859-1 filename*";
		}
		if (latin1 && c >= 0x80) {
			*w++ = (char)(0xc0 | (c >> 6));
			*w++ = (char)(0x80 | (c & 0x3f));
		} else {
			*w++ = (char)c;
		}
	}
	*w = '\0';
	return NULL;
}

static int parse_disposition(struct multipart *mp, char *v, struct multipart_part *part,
			     struct error *e)
{
	size_t tn = leading_token(v, false);
	if (tn != 9 || strncasecmp(v, "form-data", 9) != 0 ||
	    (v[tn] && v[tn] != ';' && !is_ows(v[tn])))
		return part_fail(mp, e, "Content-Disposition is not form-data");
	struct params ps = { v + tn, true };
	char *name, *value, *field = NULL, *filename = NULL, *filename_ext = NULL;
	const char *why = NULL;
	int r;
	while ((r = param_next(&ps, &name, &value, &why)) > 0) {
		char **slot = NULL;
		if (strcasecmp(name, "name") == 0)
			slot = &field;
		else if (strcasecmp(name, "filename") == 0)
			slot = &filename;
		else if (strcasecmp(name, "filename*") == 0)
			slot = &filename_ext;
		if (!slot)
			continue;
		if (*slot)
			return part_fail(mp, e, "repeated %s parameter", name);
		*slot = value;
	}
	if (r < 0)
		return part_fail(mp, e, "bad Content-Disposition: %s", why);
	if (!field)
		return part_fail(mp, e, "Content-Disposition has no name");
	if (filename_ext) {
		why = ext_value_decode(filename_ext);
		if (why)
			return part_fail(mp, e, "%s", why);
		filename = filename_ext;
	}
	if (strlen(field) > mp->lim.max_name_bytes)
		return part_fail(mp, e, "field name longer than %zu bytes (max_name_bytes)",
				 mp->lim.max_name_bytes);
	if (!utf8_valid(field))
		return part_fail(mp, e, "field name is not UTF-8");
	if (filename && strlen(filename) > mp->lim.max_filename_bytes)
		return part_fail(mp, e, "filename longer than %zu bytes (max_filename_bytes)",
				 mp->lim.max_filename_bytes);
	if (filename && !utf8_valid(filename))
		return part_fail(mp, e, "filename is not UTF-8");
	part->name = field;
	part->filename = filename;
	return 0;
}

/* The blank line after a part's headers: check them, start the part. */
static int headers_done(struct multipart *mp, struct error *e)
{
	struct multipart_part part = { NULL, NULL, NULL, mp->parts - 1 };
	bool disposition = false, type = false;
	for (size_t at = 0, next; at < mp->hdr_len; at = next) {
		char *line = mp->hdr + at;
		next = at + strlen(line) + 1;   /* before the line is cut up */
		char *colon = strchr(line, ':');
		if (!colon)
			return part_fail(mp, e, "header line without a colon");
		*colon = '\0';
		for (char *c = line; *c; c++)
			if (!is_tchar((unsigned char)*c))
				return part_fail(mp, e, "bad header name");
		if (colon == line)
			return part_fail(mp, e, "empty header name");
		char *value = trim(colon + 1);
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (disposition)
				return part_fail(mp, e, "two Content-Disposition headers");
			disposition = true;
			if (parse_disposition(mp, value, &part, e))
				return -1;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (type)
				return part_fail(mp, e, "two Content-Type headers");
			type = true;
			part.content_type = *value ? value : NULL;
		}
	}
	if (!disposition)
		return part_fail(mp, e, "no Content-Disposition header");
	mp->in_part = true;
	if (mp->cb.part_begin && mp->cb.part_begin(mp->ctx, &part) != 0)
		return stopped(mp, e);
	mp->st = ST_BODY;
	mp->k = mp->held = 0;
	return 0;
}

/* One byte of a part's header block. */
static int header_byte(struct multipart *mp, char c, struct error *e)
{
	if (++mp->hdr_raw > mp->lim.max_header_bytes)
		return part_fail(mp, e, "headers longer than %zu bytes (max_header_bytes)",
				 mp->lim.max_header_bytes);
	if (c == '\n') {
		if (mp->hdr_len == mp->line_start)
			return headers_done(mp, e);
		mp->hdr[mp->hdr_len++] = '\0';
		mp->line_start = mp->hdr_len;
		mp->st = ST_HEADER;
	} else if (mp->st == ST_HEADER_CR) {
		return part_fail(mp, e, "bare CR in a header");
	} else if (c == '\r') {
		mp->st = ST_HEADER_CR;
	} else if (c == '\0') {
		return part_fail(mp, e, "NUL byte in a header");
	} else if (is_ows(c) && mp->hdr_len == mp->line_start) {
		return part_fail(mp, e, "folded header line");
	} else {
		mp->hdr[mp->hdr_len++] = c;
	}
	return 0;
}

int multipart_feed(struct multipart *mp, const char *data, size_t n, struct error *e)
{
	if (mp->st == ST_FAILED) {
		if (e)
			*e = mp->err;
		return -1;
	}
	if (n == 0)
		return 0;
	size_t i = 0;
	size_t run = 0;     /* in ST_BODY: first byte of data not yet handed over */
	size_t mstart = 0;  /* in ST_BODY with k > held: where the match began */
	while (i < n) {
		char c = data[i];
		switch (mp->st) {
		case ST_PREAMBLE:
			if (mp->k == 0) {
				const char *q = memchr(data + i, mp->pat[0], n - i);
				if (!q) {
					i = n;
					break;
				}
				i = (size_t)(q - data) + 1;
				mp->k = 1;
			} else if (c == mp->pat[mp->k]) {
				i++;
				if (++mp->k == mp->pat_len)
					mp->st = ST_AFTER;
			} else {
				mp->k = 0;
			}
			break;
		case ST_BODY:
			if (mp->k == 0) {
				const char *q = memchr(data + i, mp->pat[0], n - i);
				if (!q) {
					i = n;
					break;
				}
				mstart = (size_t)(q - data);
				i = mstart + 1;
				mp->k = 1;
			} else if (c == mp->pat[mp->k]) {
				i++;
				if (++mp->k == mp->pat_len) {
					/* A delimiter: the data before it is complete. */
					if (!mp->held && emit(mp, data + run, mstart - run, e))
						return -1;
					mp->held = 0;
					mp->st = ST_AFTER;
				}
			} else {
				/* Not a delimiter: what matched is data.  Bytes matched in
				 * this feed are still in the run; earlier ones come from
				 * the delimiter, and precede everything in this feed. */
				if (mp->held && emit(mp, mp->pat, mp->held, e))
					return -1;
				mp->held = 0;
				mp->k = 0;
			}
			break;
		case ST_AFTER:
			if (c == '-' || c == '\r' || is_ows(c)) {
				mp->st = c == '-' ? ST_DASH : c == '\r' ? ST_CR : ST_PAD;
				i++;
			} else if (c == '\n') {
				i++;
				if (delimiter_line(mp, true, e))
					return -1;
			} else {
				if (not_delimiter(mp, "", e))
					return -1;
				run = i;
			}
			break;
		case ST_DASH:
			if (c == '-') {
				i++;
				mp->st = ST_EPILOGUE;
				if (mp->in_part && end_part(mp, e))
					return -1;
			} else {
				if (not_delimiter(mp, "-", e))
					return -1;
				run = i;
			}
			break;
		case ST_CR:
			if (c == '\n') {
				i++;
				if (delimiter_line(mp, false, e))
					return -1;
			} else {
				if (not_delimiter(mp, "\r", e))
					return -1;
				run = i;
			}
			break;
		case ST_PAD:
		case ST_PAD_CR:
			if (c == '\n') {
				i++;
				if (delimiter_line(mp, mp->st == ST_PAD, e))
					return -1;
			} else if (mp->st == ST_PAD && (c == '\r' || is_ows(c))) {
				i++;
				if (c == '\r')
					mp->st = ST_PAD_CR;
			} else if (mp->in_part) {
				return fail(mp, e, "malformed delimiter line after part %zu",
					    mp->parts);
			} else {
				mp->st = ST_PREAMBLE;
				mp->k = 0;
			}
			break;
		case ST_HEADER:
		case ST_HEADER_CR:
			i++;
			if (header_byte(mp, c, e))
				return -1;
			run = i;   /* matters only if that was the end of the headers */
			break;
		case ST_EPILOGUE:
			i = n;
			break;
		case ST_FAILED:
			return -1;   /* not reached: failures return at once */
		}
	}
	if (mp->st == ST_BODY) {
		/* Hand over all but a possible delimiter's start. */
		size_t end = mp->k > mp->held ? mstart : n;
		if (!mp->held && emit(mp, data + run, end - run, e))
			return -1;
		mp->held = mp->k;
	}
	return 0;
}

int multipart_finish(struct multipart *mp, struct error *e)
{
	switch (mp->st) {
	case ST_EPILOGUE:
		return 0;
	case ST_FAILED:
		if (e)
			*e = mp->err;
		return -1;
	case ST_HEADER:
	case ST_HEADER_CR:
		return fail(mp, e, "the body ended in the headers of part %zu", mp->parts);
	default:
		/* Between a delimiter line and the end of the headers that follow
		 * it the state is ST_HEADER, so this is a part or the preamble. */
		if (mp->in_part)
			return fail(mp, e, "the body ended in part %zu (no close delimiter)",
				    mp->parts);
		return fail(mp, e, "no delimiter in the body");
	}
}
