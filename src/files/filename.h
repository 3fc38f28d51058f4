/*
 * Names of uploaded files: the one shown to people, the one used as an
 * object-key segment, and the Content-Disposition header that gives the
 * first back on download.
 *
 * A client's filename is never trusted: it may carry a path, control
 * characters, bidi overrides, invalid UTF-8 or CR/LF meant for a header.
 * The display name keeps what a person typed (Korean, emoji) and drops the
 * rest; the storage name is plain ASCII that blob_key_valid() accepts as a
 * segment; the header is ASCII only.  All three always produce a usable,
 * NUL-terminated result and never fail.
 */
#ifndef SHEAF_FILES_FILENAME_H
#define SHEAF_FILES_FILENAME_H

#include <stddef.h>

#define FILENAME_DISPLAY_MAX 255   /* bytes, without the NUL */
#define FILENAME_STORAGE_MAX 100
#define FILENAME_EXT_MAX 16        /* bytes after the dot of a kept extension */
#define CONTENT_DISPOSITION_TYPE_MAX 32
/* Longest header value content_disposition() writes, without the NUL:
 * the type, `; filename="`, the ASCII fallback (one byte per character of
 * the display name), `"; filename*=UTF-8''` and three bytes per byte of the
 * display name: 32 + 12 + 255 + 20 + 765. */
#define CONTENT_DISPOSITION_MAX \
	(CONTENT_DISPOSITION_TYPE_MAX + 12 + FILENAME_DISPLAY_MAX + 20 + 3 * FILENAME_DISPLAY_MAX)

/*
 * The name to keep for display and download, into out (cap bytes; give it
 * FILENAME_DISPLAY_MAX + 1, a smaller cap lowers the length limit):
 *   - only the last path component: everything up to the last '/' or '\'
 *     goes ("C:\x\report.csv" -> "report.csv", "../../etc/passwd" ->
 *     "passwd");
 *   - each byte that is not part of valid UTF-8 becomes U+FFFD, so a name
 *     sent in Latin-1 still shows where its accents were;
 *   - dropped: C0 controls, DEL, C1 controls (U+0080-U+009F), the bidi
 *     controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) that
 *     can make "evil\u202Etxt.exe" read as "evilexe.txt", and the line and
 *     paragraph separators U+2028, U+2029;
 *   - spaces and dots are trimmed at both ends (so "." and ".." vanish and
 *     ".bashrc" shows as "bashrc");
 *   - at most FILENAME_DISPLAY_MAX bytes, never cutting a UTF-8 sequence;
 *     a shortened name keeps its extension (the last ".xxx", at most
 *     FILENAME_EXT_MAX bytes after the dot);
 *   - an empty result is "file".
 * The result is valid UTF-8 without controls, '/', '\\', CR or LF, and
 * running it through filename_display() again changes nothing.
 */
void filename_display(const char *given, char *out, size_t cap);

/*
 * A name usable as one object-key segment, into out (cap bytes; give it
 * FILENAME_STORAGE_MAX + 1): ASCII letters, digits, '-', '_' and '.' are
 * kept, every other character (a whole UTF-8 sequence, or one invalid byte)
 * becomes '_', and runs of '_' collapse to one ("보고서 (1).csv" ->
 * "_1_.csv").  Leading dots are removed, so the result never starts with
 * '.' and is never "." or "..".  At most FILENAME_STORAGE_MAX bytes; a
 * shortened name keeps its extension (as above).  Never empty: "file".
 * Names need not be unique; callers put them under a unique prefix.
 */
void filename_storage(const char *display, char *out, size_t cap);

/*
 * A Content-Disposition header value (RFC 6266) into out (cap bytes; give
 * it CONTENT_DISPOSITION_MAX + 1).  name goes through filename_display()
 * first, so any string is safe.  type is "attachment" or "inline"; NULL, or
 * anything that is not a token of at most CONTENT_DISPOSITION_TYPE_MAX
 * bytes, means "attachment".  The value is
 *   attachment; filename="report.csv"
 * for a printable-ASCII name, and otherwise adds the UTF-8 name as
 *   attachment; filename="_.csv"; filename*=UTF-8''%EB%B3%B4.csv
 * where the quoted fallback has '_' for each non-ASCII character and for
 * '"', '\' and '%' (which some browsers would decode).  The result is
 * printable ASCII: no CR, LF or other control can reach the header.  When
 * cap is too small for all of it, out is just the type (or "" if even that
 * does not fit), never a value cut in the middle.
 */
void content_disposition(const char *name, const char *type, char *out, size_t cap);

#endif
