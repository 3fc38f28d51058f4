/*
 * Streaming multipart/form-data parser (RFC 7578 on RFC 2046), push style.
 *
 * Uploads of any size go through in constant memory: the caller feeds the
 * request body in whatever pieces it arrives in, and the parser reports each
 * part (its headers once, then its bytes as they come) through callbacks.
 * Nothing of a part's content is copied or kept.
 *
 * What is accepted:
 *   - A preamble before the first delimiter and an epilogue after the close
 *     delimiter are ignored.  The first delimiter ("--" boundary) may start
 *     the body or any preamble line.
 *   - Line ends: the first delimiter line fixes them for the body, as Go's
 *     mime/multipart does.  Ending in CRLF (browsers, curl) the delimiter
 *     inside the body is CRLF "--" boundary; ending in a bare LF (hand-made
 *     bodies) it is LF "--" boundary.  Header lines may end in CRLF or LF in
 *     either case; a bare CR in a header is an error.
 *   - After "--" boundary comes "--" (close), a line end (next part), or
 *     transport padding (spaces, tabs) and a line end.  Any other byte, and
 *     "-" or CR not followed by "-" or LF, means it was not a delimiter and
 *     the bytes are part data ("\r\n--boundaryX" is data).  In a part,
 *     padding followed by anything but a line end is an error, since keeping
 *     it as data could need unbounded lookback.
 *   - Each part needs a "Content-Disposition: form-data" header with a name
 *     parameter (may be empty).  Parameter names are case-insensitive,
 *     values a token or a quoted-string, with no space around '='; unknown
 *     parameters are ignored, repeated ones are an error.  filename is
 *     optional; in its quoted-string a backslash escapes only '"' and '\'
 *     (other backslashes stay, so the full Windows paths old browsers send
 *     survive).  filename* (RFC 5987, charset UTF-8 or ISO-8859-1, converted
 *     to UTF-8) wins over filename.  The "%22", "%0D" and "%0A" browsers put
 *     in filename="..." are not decoded (the HTML spec leaves them
 *     ambiguous).  Content-Type is optional, other headers are ignored.
 *     Errors: a repeated Content-Disposition or Content-Type, a line without
 *     a colon, a folded line (starting with a space or tab), a NUL byte, a
 *     name or filename that is not valid UTF-8 (or has %00).
 *
 * Memory: multipart_new allocates the parser, one header buffer of exactly
 * limits.max_header_bytes bytes and a copy of the delimiter (boundary length
 * + 5 bytes); nothing is allocated after that.  Between two feeds at most
 * boundary length + 5 bytes of part data are held back (the prefix of a
 * possible delimiter, "\r\n--" boundary plus one byte), and they are not
 * copied: the parser knows them, because they equal the delimiter.  Every
 * other data byte reaches part_data in the feed call that brought it.
 *
 * Not thread-safe: one parser per request.
 */
#ifndef SHEAF_HTTP_MULTIPART_H
#define SHEAF_HTTP_MULTIPART_H

#include <stddef.h>

#include "base/error.h"

#define MULTIPART_BOUNDARY_MAX 70   /* RFC 2046 */

/* Ceilings.  A field of 0 (or a NULL limits pointer) means the default. */
struct multipart_limits {
	size_t max_header_bytes;    /* one part's header block, line ends included (8 KiB) */
	size_t max_parts;           /* parts in one body (1000) */
	size_t max_name_bytes;      /* a field name, after decoding (1024) */
	size_t max_filename_bytes;  /* a filename, after decoding (1024) */
};

#define MULTIPART_DEFAULT_HEADER_BYTES (8 * 1024)
#define MULTIPART_DEFAULT_PARTS 1000
#define MULTIPART_DEFAULT_NAME_BYTES 1024
#define MULTIPART_DEFAULT_FILENAME_BYTES 1024

/* One part, as given to part_begin.  The strings are NUL-terminated and
 * live inside the parser: they are valid only during the part_begin call,
 * so copy what must outlive it. */
struct multipart_part {
	const char *name;          /* field name: valid UTF-8 without CR or LF, never
				    * NULL (may be ""); other controls are possible */
	const char *filename;      /* valid UTF-8, or NULL when the part has none; ""
				    * is what browsers send for an empty file input.
				    * As the client sent it: it may hold a path and
				    * controls (even CR and LF, %-encoded in filename*),
				    * so clean it with filename_display() */
	const char *content_type;  /* trimmed header value as sent (no CR or LF, not
				    * checked further); NULL when absent or empty */
	size_t index;              /* 0 for the first part */
};

/* Called in order: part_begin, part_data zero or more times (never with
 * n == 0), part_end; then the next part.  Each returns 0 to go on or -1 to
 * stop: the feed then fails with "stopped by the receiver" and the receiver
 * keeps its own reason.  Any callback may be NULL.  After a failure no
 * callback is made, not even part_end for a part that was begun: the receiver
 * discards such a part when feed or finish returns -1.  Callbacks must not
 * call back into the parser. */
struct multipart_callbacks {
	int (*part_begin)(void *ctx, const struct multipart_part *part);
	int (*part_data)(void *ctx, const char *p, size_t n);
	int (*part_end)(void *ctx);
};

struct multipart;

/* The boundary parameter of a Content-Type header value into out (cap
 * bytes; MULTIPART_BOUNDARY_MAX + 1 always suffices).  The type must be
 * multipart/form-data (case-insensitive, like parameter names); the value
 * may be a token or a quoted-string and must be 1-70 RFC 2046 bchars, not
 * ending in a space.  Returns 0, or -1 with e set (out is then ""). */
int multipart_boundary(const char *content_type, char *out, size_t cap, struct error *e);

/* A parser for a body with this boundary (as multipart_boundary returns
 * it).  limits and cb are copied; ctx is passed to every callback.  NULL
 * when the boundary is not 1-70 valid characters. */
struct multipart *multipart_new(const char *boundary, const struct multipart_limits *limits,
				const struct multipart_callbacks *cb, void *ctx);

/* Parses the next n bytes of the body; any split works, down to one byte at
 * a time.  Returns 0, or -1 with e set when the body is malformed, a limit
 * is crossed (the message names it) or a callback stopped.  After -1 the
 * parser stays failed: every later feed or finish returns -1 with the same
 * message. */
int multipart_feed(struct multipart *mp, const char *data, size_t n, struct error *e);

/* The body is complete: 0 if the close delimiter was seen, else -1 with e
 * set.  Makes no callback. */
int multipart_finish(struct multipart *mp, struct error *e);

void multipart_free(struct multipart *mp);   /* NULL is fine; makes no callback */

#endif
