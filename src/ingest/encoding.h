/*
 * Text encodings of uploaded datasets: detect one, and convert a stream of
 * it to UTF-8.
 *
 * Everything after ingestion works on UTF-8, so an uploaded CSV goes
 * through here first.  encoding_detect looks at the start of the file and
 * names one of the supported encodings (the name is what the API reports
 * back); the caller may instead take an override from the user.  A
 * converter then turns the whole file into UTF-8, pushed in pieces of any
 * size, in constant memory.
 *
 * Supported (the canonical names encoding_detect and encoding_normalize
 * give):
 *   UTF-8         with or without a BOM; validated, never re-encoded
 *   CP949         Windows Korean (Unified Hangul Code), a superset of
 *                 EUC-KR: Korean public-data files are CP949 even when
 *                 labelled EUC-KR, so EUC-KR is always read as CP949
 *   UTF-16LE, UTF-16BE, UTF-32LE, UTF-32BE
 *   UTF-16        the BOM decides between LE and BE; without one, LE (what
 *                 Windows writes)
 *   WINDOWS-1252  also serves ISO-8859-1 / Latin-1, as browsers do (the
 *                 WHATWG Encoding Standard): the two differ only in
 *                 0x80-0x9F, which are unused controls in Latin-1 text.
 *                 The five bytes Windows-1252 leaves undefined become the
 *                 matching C1 controls, so every byte sequence converts.
 *
 * A BOM (U+FEFF as the first character) is never copied to the output,
 * whatever the encoding.  Invalid input is an error that names its byte
 * offset from the start of the stream; there is no replacement mode,
 * because silently turning bytes into U+FFFD corrupts data without anyone
 * noticing, while the error lets the user pick the right override.
 */
#ifndef SHEAF_INGEST_ENCODING_H
#define SHEAF_INGEST_ENCODING_H

#include <stddef.h>

#include "base/error.h"

#define ENCODING_NAME_MAX 16            /* longest canonical name + NUL */

/* How much of the start of a file to give encoding_detect.  64 KiB holds
 * hundreds of CSV rows, plenty for uchardet to settle, and a whole file
 * when it is small. */
#define ENCODING_SAMPLE_BYTES (64 * 1024)

/* The values an override may take (case-insensitive), for messages and
 * API documentation. */
#define ENCODING_OVERRIDES \
	"utf-8, utf-8-sig, cp949, euc-kr, utf-16, utf-16le, utf-16be, utf-32le, utf-32be, " \
	"latin-1, iso-8859-1, windows-1252"

/* Names the encoding of a file from its first n bytes (ideally
 * ENCODING_SAMPLE_BYTES, fewer when the file is shorter) into out, as a
 * canonical name.  In order: a BOM (UTF-8, UTF-32LE/BE, UTF-16LE/BE); then
 * valid UTF-8 (a sequence cut by the end of the sample is allowed; pure
 * ASCII and an empty sample count as UTF-8); then uchardet's guess, mapped
 * to the supported set (EUC-KR and UHC give CP949, ISO-8859-1 gives
 * WINDOWS-1252).  Returns 0, or -1 with e set (saying what was detected and
 * listing the override values) and out "" when the guess is unknown or
 * unsupported, or when uchardet (loaded by the first call that needs it)
 * cannot be loaded. */
int encoding_detect(const void *sample, size_t n, char out[ENCODING_NAME_MAX], struct error *e);

/* The canonical name for an override or a canonical name (case-insensitive;
 * also accepted: utf8, uhc, latin1, cp1252, iso-8859-1).  "utf-8-sig" is
 * UTF-8, since the BOM is dropped anyway.  Returns 0, or -1 with e set
 * (listing the accepted values) and out "". */
int encoding_normalize(const char *name, char out[ENCODING_NAME_MAX], struct error *e);

/* Receives converted UTF-8: n > 0 bytes, whole characters only.  Returns 0
 * to go on, or -1 to stop the conversion ("stopped by the receiver"; the
 * receiver keeps its own reason).  p is valid only during the call. */
typedef int (*encoding_sink)(void *ctx, const char *p, size_t n);

/* A sink that appends to the struct buf given as ctx; a full buffer stops
 * the conversion with "output larger than N bytes". */
int encoding_sink_buf(void *ctx, const char *p, size_t n);

struct encoding_converter;

/* A converter from the named encoding (anything encoding_normalize
 * accepts) to UTF-8.  Returns NULL with e set for an unknown name.  Free
 * with encoding_converter_free. */
struct encoding_converter *encoding_converter_new(const char *from, struct error *e);

/* Converts the next n bytes of the stream and hands the UTF-8 to sink
 * (possibly in several calls, possibly none), with ctx.  Any split works,
 * down to a byte at a time: a character cut by the end of a piece is kept
 * (at most 3 bytes) until the next piece completes it.  For UTF-8 input
 * the sink gets slices of in itself, except around such cuts.  Returns 0,
 * or -1 with e set when the input is invalid ("... at byte offset N", N
 * counted from the start of the stream, BOM included) or the sink stopped;
 * everything before the bad character has been handed to the sink.  After
 * -1 the converter stays failed: later calls return -1 with the same
 * message. */
int encoding_convert(struct encoding_converter *c, const void *in, size_t n, encoding_sink sink,
		     void *ctx, struct error *e);

/* The stream is complete: 0, or -1 with e set if it ended inside a
 * character (or the converter had failed).  Makes no sink call. */
int encoding_finish(struct encoding_converter *c, struct error *e);

/* The canonical name the converter decodes (for UTF-16, before the BOM
 * has decided: "UTF-16"). */
const char *encoding_converter_name(const struct encoding_converter *c);

void encoding_converter_free(struct encoding_converter *c);   /* NULL is fine */

#endif
