/*
 * S3's XML answers, read with expat; see s3xml.h.
 *
 * One small walker serves every document: it keeps the names of the open
 * elements and the text of the current one, and hands each element to a
 * callback as it closes (with its parent's name), which is all S3's flat
 * documents need.  A DOCTYPE stops the parse: S3 never sends one, and it is
 * where entity expansion tricks start (expat 2.4+ also caps amplification).
 */
#include "blob/s3xml.h"

#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"

#define XML_DEPTH 8
#define XML_NAME 64
#define XML_TEXT_LIMIT (16 * 1024)   /* one element's text: a key is at most 1024 */

struct walk {
	XML_Parser p;
	int depth;
	char names[XML_DEPTH][XML_NAME];   /* names[0]: the document element */
	struct buf text;
	bool too_long;
	bool doctype;
	bool stopped;
	/* Sees each element as it closes; non-zero stops the walk. */
	int (*on_end)(struct walk *w, const char *parent, const char *name, const char *text);
	void *ctx;
};

static const char *local_name(const char *name)
{
	const char *colon = strrchr(name, ':');
	return colon ? colon + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct walk *w = ud;
	(void)attrs;
	if (w->depth < XML_DEPTH)
		snprintf(w->names[w->depth], XML_NAME, "%s", local_name(name));
	w->depth++;
	buf_reset(&w->text);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct walk *w = ud;
	(void)name;
	if (w->depth <= XML_DEPTH && w->on_end) {
		const char *parent = w->depth >= 2 ? w->names[w->depth - 2] : "";
		if (w->on_end(w, parent, w->names[w->depth - 1], w->text.data ? w->text.data : "")) {
			w->stopped = true;
			XML_StopParser(w->p, XML_FALSE);
		}
	}
	w->depth--;
	buf_reset(&w->text);
}

static void XMLCALL on_chars(void *ud, const XML_Char *s, int len)
{
	struct walk *w = ud;
	if (buf_append(&w->text, s, (size_t)len)) {
		w->too_long = true;
		XML_StopParser(w->p, XML_FALSE);
	}
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal)
{
	struct walk *w = ud;
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	w->doctype = true;
	XML_StopParser(w->p, XML_FALSE);
}

/* Walks data; 0 (also when on_end stopped it), or -1 with e set. */
static int walk_doc(struct walk *w, const char *data, size_t len, const char *what,
		    struct error *e)
{
	w->p = XML_ParserCreate("UTF-8");
	if (!w->p) {
		fprintf(stderr, "sheaf: out of memory (XML_ParserCreate)\n");
		abort();
	}
	w->depth = 0;
	w->names[0][0] = '\0';
	buf_init(&w->text, XML_TEXT_LIMIT);
	XML_SetUserData(w->p, w);
	XML_SetElementHandler(w->p, on_start, on_end);
	XML_SetCharacterDataHandler(w->p, on_chars);
	XML_SetStartDoctypeDeclHandler(w->p, on_doctype);
	int rc = 0;
	if (len > (size_t)INT32_MAX)
		rc = error_set(e, "the S3 server's answer to %s is too large", what);
	else if (XML_Parse(w->p, data ? data : "", (int)len, XML_TRUE) == XML_STATUS_ERROR &&
		 !w->stopped) {
		if (w->too_long)
			rc = error_set(e, "the S3 server's answer to %s has an element longer than %d "
					  "bytes", what, XML_TEXT_LIMIT);
		else if (w->doctype)
			rc = error_set(e, "the S3 server's answer to %s has a DOCTYPE", what);
		else
			rc = error_set(e, "the S3 server's answer to %s is not XML: %s (line %lu)", what,
				       XML_ErrorString(XML_GetErrorCode(w->p)),
				       (unsigned long)XML_GetCurrentLineNumber(w->p));
	}
	XML_ParserFree(w->p);
	buf_free(&w->text);
	return rc;
}

/* ---- <Error> ---------------------------------------------------------- */

static int error_field(struct walk *w, const char *parent, const char *name, const char *text)
{
	struct s3xml_error *d = w->ctx;
	if (strcmp(parent, "Error") == 0 && strcmp(name, "Code") == 0)
		snprintf(d->code, sizeof d->code, "%s", text);
	else if (strcmp(parent, "Error") == 0 && strcmp(name, "Message") == 0)
		snprintf(d->message, sizeof d->message, "%s", text);
	return 0;
}

void s3xml_parse_error(const char *data, size_t len, struct s3xml_error *out)
{
	out->code[0] = out->message[0] = '\0';
	if (!len)
		return;
	struct walk w = { .on_end = error_field, .ctx = out };
	walk_doc(&w, data, len, "", NULL);
}

/* ---- ListBucketResult ------------------------------------------------- */

int64_t s3xml_time_ms(const char *s)
{
	struct tm tm = { 0 };
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6 ||
	    tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12)
		return 0;
	int ms = 0, digits = 0;
	const char *dot = strchr(s, '.');
	if (dot)
		for (const char *p = dot + 1; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
			ms = ms * 10 + (*p - '0');
	for (; digits < 3; digits++)
		ms *= 10;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return t < 0 ? 0 : (int64_t)t * 1000 + ms;
}

struct list_state {
	const char *prefix;
	size_t prefix_len;
	blob_list_fn fn;
	void *ctx;
	struct s3xml_page *page;
	char *key;                 /* of the <Contents> being read */
	struct blob_info info;
};

static int list_field(struct walk *w, const char *parent, const char *name, const char *text)
{
	struct list_state *st = w->ctx;
	if (strcmp(parent, "Contents") == 0) {
		if (strcmp(name, "Key") == 0) {
			free(st->key);
			st->key = xstrdup(text);
		} else if (strcmp(name, "Size") == 0) {
			st->info.size = strtoull(text, NULL, 10);
		} else if (strcmp(name, "LastModified") == 0) {
			st->info.mtime_ms = s3xml_time_ms(text);
		}
		return 0;
	}
	if (strcmp(parent, "ListBucketResult") != 0)
		return 0;
	if (strcmp(name, "Contents") == 0) {
		int stop = 0;
		if (st->key && blob_key_valid(st->key) &&
		    strncmp(st->key, st->prefix, st->prefix_len) == 0)
			stop = st->fn(st->ctx, st->key, &st->info);
		free(st->key);
		st->key = NULL;
		memset(&st->info, 0, sizeof st->info);
		if (stop) {
			st->page->stopped = true;
			return 1;
		}
	} else if (strcmp(name, "IsTruncated") == 0) {
		st->page->truncated = strcmp(text, "true") == 0;
	} else if (strcmp(name, "NextContinuationToken") == 0) {
		free(st->page->next_token);
		st->page->next_token = xstrdup(text);
	}
	return 0;
}

int s3xml_parse_list(const char *data, size_t len, const char *prefix, blob_list_fn fn,
		     void *ctx, struct s3xml_page *out, const char *what, struct error *e)
{
	memset(out, 0, sizeof *out);
	struct list_state st = { .prefix = prefix, .prefix_len = strlen(prefix), .fn = fn,
				 .ctx = ctx, .page = out };
	struct walk w = { .on_end = list_field, .ctx = &st };
	int rc = walk_doc(&w, data, len, what, e);
	free(st.key);
	if (rc == 0 && !out->stopped && strcmp(w.names[0], "ListBucketResult") != 0)
		rc = error_set(e, "the S3 server's answer to %s is not a ListBucketResult", what);
	if (rc) {
		free(out->next_token);
		out->next_token = NULL;
	}
	return rc;
}

/* ---- multipart replies ------------------------------------------------ */

static int upload_id_field(struct walk *w, const char *parent, const char *name,
			   const char *text)
{
	char **id = w->ctx;
	if (strcmp(parent, "InitiateMultipartUploadResult") == 0 && strcmp(name, "UploadId") == 0) {
		free(*id);
		*id = xstrdup(text);
	}
	return 0;
}

char *s3xml_parse_upload_id(const char *data, size_t len, const char *what, struct error *e)
{
	char *id = NULL;
	struct walk w = { .on_end = upload_id_field, .ctx = &id };
	if (walk_doc(&w, data, len, what, e) == 0 && (!id || !*id))
		error_set(e, "the S3 server's answer to %s has no UploadId", what);
	else if (id && *id)
		return id;
	free(id);
	return NULL;
}

struct complete_state {
	bool done;
	struct s3xml_error err;
};

static int complete_field(struct walk *w, const char *parent, const char *name,
			  const char *text)
{
	struct complete_state *st = w->ctx;
	if (!*parent && strcmp(name, "CompleteMultipartUploadResult") == 0)
		st->done = true;
	else if (strcmp(parent, "Error") == 0 && strcmp(name, "Code") == 0)
		snprintf(st->err.code, sizeof st->err.code, "%s", text);
	else if (strcmp(parent, "Error") == 0 && strcmp(name, "Message") == 0)
		snprintf(st->err.message, sizeof st->err.message, "%s", text);
	return 0;
}

int s3xml_parse_complete(const char *data, size_t len, const char *what, struct error *e)
{
	struct complete_state st = { 0 };
	struct walk w = { .on_end = complete_field, .ctx = &st };
	if (walk_doc(&w, data, len, what, e))
		return -1;
	if (st.done)
		return 0;
	return error_set(e, "the S3 server failed %s: %s%s%s", what,
			 st.err.code[0] ? st.err.code : "no CompleteMultipartUploadResult",
			 st.err.message[0] ? ": " : "", st.err.message);
}
