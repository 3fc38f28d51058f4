/*
 * Type inference for one spreadsheet column over the whole file.
 *
 * The importer feeds every field of a column to infer_add() and then asks
 * infer_result() for the most specific type that every non-null value fits.
 * Because the chosen type is one that every value parses as (value.h), no
 * value is lost on conversion; a column where even one value does not fit
 * becomes text and keeps every original string.
 *
 * Rules:
 * - Nulls: empty fields and, ASCII case-insensitively, "NA", "N/A", "#N/A",
 *   "null", "None", "NaN" and "-" are counted as nulls and do not vote.
 * - Order of preference: boolean > integer > real > date > datetime > time
 *   > text.  A 0/1 column is integer (value.h).  Integers and reals mixed
 *   give real.  Dates and datetimes mixed give datetime (a date is its
 *   midnight); only dates give date.
 * - Percent: a real column is `percent` when every value ended in '%'
 *   (values are then fractions: "12%" is 0.12).  A column mixing "12%" and
 *   "0.5" is text, since the two readings disagree.  An integer whose
 *   magnitude exceeds 2^53 makes a mixed int/real column text, as a double
 *   would round it.
 * - Categorical: a text column whose distinct values number at most
 *   max(20, 5% of non-null values), with at least one value repeated.
 *   Distinct values are counted as 64-bit hashes, at most INFER_MAX_DISTINCT
 *   per column; past that the column is not categorical and distinct stops
 *   counting.  Memory per column is bounded by that set.
 * - Latitude/longitude: by name (ASCII case-insensitive, surrounding spaces
 *   ignored) and range.  "lat", "latitude", "위도" or a name containing
 *   "위도" with every value in [-90, 90] is latitude; "lng", "lon", "long",
 *   "longitude", "경도" or a name containing "경도" with every value in
 *   [-180, 180] is longitude.  The bare names "y" and "x" are common for
 *   other things, so they count only when every value lies in the WGS84
 *   box around Korea: y in [33, 39], x in [124, 132].  The column must be
 *   integer or real (not percent) with at least one value.
 */
#ifndef SHEAF_INGEST_INFER_H
#define SHEAF_INGEST_INFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INFER_MAX_DISTINCT 10000

enum column_kind {
	COLUMN_TEXT,
	COLUMN_BOOL,
	COLUMN_INT,
	COLUMN_REAL,
	COLUMN_DATE,
	COLUMN_DATETIME,
	COLUMN_TIME,
};

enum column_role {
	COLUMN_ROLE_NONE,
	COLUMN_ROLE_LATITUDE,
	COLUMN_ROLE_LONGITUDE,
};

struct column_type {
	enum column_kind kind;
	enum column_role role;
	bool categorical;          /* only for COLUMN_TEXT */
	bool percent;              /* only for COLUMN_REAL */
	uint64_t rows;             /* fields fed, nulls included */
	uint64_t nulls;
	uint64_t distinct;         /* distinct non-null values, capped */
	bool distinct_capped;      /* more than INFER_MAX_DISTINCT seen */
	double min, max;           /* numeric range for INT/REAL, else 0 */
};

struct column_infer;

/* A fresh column state; never NULL (aborts on out of memory). */
struct column_infer *infer_new(void);
/* Frees the state; NULL is allowed. */
void infer_free(struct column_infer *ci);

/* Feeds one field (UTF-8, ptr+len, may be empty).  The bytes are not kept. */
void infer_add(struct column_infer *ci, const char *s, size_t len);

/* The type for everything fed so far.  column_name (NUL-terminated UTF-8,
 * may be NULL) is used only for the latitude/longitude role.  A column with
 * no non-null value is text. */
void infer_result(const struct column_infer *ci, const char *column_name,
		  struct column_type *out);

/* For a caller that counts distinct values itself (the importer's column
 * profiles do, exactly up to INFER_MAX_DISTINCT): stop hashing values here.
 * infer_result then reports distinct 0 and never categorical; the caller
 * applies infer_categorical to its own counts.  Call before infer_add. */
void infer_skip_distinct(struct column_infer *ci);

/* The categorical rule above, for distinct non-null values among values
 * non-null ones (capped: more distinct values than could be counted). */
bool infer_categorical(uint64_t distinct, bool capped, uint64_t values);

/* Whether the column can only be text from now on (every other type was
 * ruled out) and nothing but counts is left to learn: true only after
 * infer_skip_distinct.  Then infer_count(ci, infer_is_null(s, len)) may
 * stand in for infer_add(ci, s, len), without the bytes. */
bool infer_settled(const struct column_infer *ci);
void infer_count(struct column_infer *ci, bool null);

/* The latitude/longitude rule above for a number column (not percent)
 * named name whose values range over [min, max]. */
enum column_role infer_role(const char *name, double min, double max);

/* Whether a trimmed field is one of the null words above. */
bool infer_is_null(const char *s, size_t len);

const char *column_kind_name(enum column_kind kind);

#endif
