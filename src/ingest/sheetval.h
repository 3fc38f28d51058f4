/*
 * Cell values that spreadsheet readers share: the text of a number, and of
 * a date serial in Excel's two calendars.  The XLSX and XLS readers must
 * give one file's values the same text whichever format it was saved in.
 */
#ifndef SHEAF_INGEST_SHEETVAL_H
#define SHEAF_INGEST_SHEETVAL_H

#include <stdbool.h>
#include <stddef.h>

#define SHEET_MAX_SERIAL 2958465.0   /* 9999-12-31 in the 1900 system */

/* The shortest decimal that reads back to v: integers below 2^53 in plain
 * digits, others in %g form with the fewest digits that round-trip; -0 is
 * "0".  cap >= 32 always suffices. */
void sheet_format_number(double v, char *out, size_t cap);

/* ISO text ("YYYY-MM-DD", or with_time "YYYY-MM-DDTHH:MM:SS" rounded to the
 * second) for an Excel serial in the 1900 system (with Lotus's 1900-02-29
 * as day 60) or the 1904 one.  false, writing nothing, for serials outside
 * 0..SHEET_MAX_SERIAL.  cap >= 32 always suffices. */
bool sheet_format_serial(double serial, bool date1904, bool with_time, char *out, size_t cap);

/* "HH:MM:SS" for the time of day of an Excel serial (its fraction, rounded
 * to the second).  cap >= 16 always suffices. */
void sheet_format_time(double serial, char *out, size_t cap);

/* Decodes OOXML's ST_Xstring escapes in place: "_xHHHH_" is the UTF-16 code
 * unit HHHH (a surrogate pair as two escapes; "_x005F_" is a literal "_"),
 * written as UTF-8.  An escape that names no character (a lone surrogate,
 * U+0000) stays as written.  Returns the new length (never longer). */
size_t sheet_decode_escapes(char *s, size_t len);

#endif
