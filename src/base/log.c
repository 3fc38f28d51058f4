/*
 * Line-oriented logger; see log.h.  JSON lines are produced by jansson so
 * escaping is never our problem; text lines quote values that contain
 * spaces, quotes or control characters.
 */
#include "base/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/utf8.h"

#define LOG_LINE_MAX (16 * 1024)
#define LOG_VALUE_MAX 2048   /* longer string fields are cut, so the line always fits */

static struct {
	enum log_level level;
	enum log_format format;
} log_state = { LOG_INFO, LOG_TEXT };

static const char *const level_names[] = { "debug", "info", "warn", "error", "off", "notice" };

void log_setup(enum log_level level, enum log_format format)
{
	log_state.level = level;
	log_state.format = format;
}

bool log_enabled(enum log_level level)
{
	if (level == LOG_NOTICE)
		return log_state.level != LOG_OFF;
	return level >= log_state.level && level != LOG_OFF;
}

static void emit(struct buf *line)
{
	if (buf_append(line, "\n", 1)) {
		/* Over the ceiling: end the truncated line so the next one starts clean. */
		line->data[line->len - 1] = '\n';
	}
	const char *p = line->data;
	size_t left = line->len;
	while (left) {
		ssize_t n = write(STDERR_FILENO, p, left);
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
}

/*
 * Writes a text-format value: bare when it is plain, otherwise quoted with
 * quotes, backslashes, control characters and bytes that are not UTF-8
 * escaped, so a client-chosen path can never forge or garble a log line.
 */
static void text_value(struct buf *b, const char *s)
{
	bool quote = *s == '\0';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c <= ' ' || *c == '"' || *c == '=' || *c == '\\' || *c >= 0x80)
			quote = true;
	if (!quote) {
		buf_puts(b, s);
		return;
	}
	buf_append(b, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t n = utf8_seq((const char *)c);
		if (*c == '"' || *c == '\\')
			buf_printf(b, "\\%c", *c);
		else if (*c < ' ' || *c == 0x7f || n == 0)
			buf_printf(b, "\\x%02x", *c);
		else
			buf_append(b, c, n);
		c += n ? n : 1;
	}
	buf_append(b, "\"", 1);
}

/* v, or a copy in `cut` shortened to LOG_VALUE_MAX bytes with a marker. */
static const char *capped(const char *v, char cut[LOG_VALUE_MAX + 64])
{
	if (!v)
		return "";
	size_t len = strlen(v);
	if (len <= LOG_VALUE_MAX)
		return v;
	size_t keep = utf8_prefix(v, LOG_VALUE_MAX);
	snprintf(cut, LOG_VALUE_MAX + 64, "%.*s...(%zu bytes)", (int)keep, v, len);
	return cut;
}

void log_event(enum log_level level, const char *msg, const struct log_field *fields, size_t n)
{
	if (!log_enabled(level))
		return;
	char cut[LOG_VALUE_MAX + 64];
	char ts[RFC3339_LEN];
	clock_rfc3339(clock_now_ms(), ts);
	struct buf line;
	buf_init(&line, LOG_LINE_MAX);

	if (log_state.format == LOG_JSON) {
		json_t *o = json_object();
		json_object_set_new(o, "ts", json_string(ts));
		json_object_set_new(o, "level", json_string(level_names[level]));
		json_object_set_new(o, "msg", json_string(msg));
		for (size_t i = 0; i < n; i++) {
			const struct log_field *f = &fields[i];
			json_t *v = f->type == LOG_FIELD_STR ? json_string(capped(f->s, cut))
				  : f->type == LOG_FIELD_INT ? json_integer(f->i)
				  : json_real(f->d);
			json_object_set_new(o, f->key, v ? v : json_string("(invalid utf-8)"));
		}
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
		json_decref(o);
		if (s) {
			buf_puts(&line, s);
			free(s);
		}
	} else {
		buf_printf(&line, "%s %-6s %s", ts, level_names[level], msg);
		for (size_t i = 0; i < n; i++) {
			const struct log_field *f = &fields[i];
			buf_printf(&line, " %s=", f->key);
			if (f->type == LOG_FIELD_STR)
				text_value(&line, capped(f->s, cut));
			else if (f->type == LOG_FIELD_INT)
				buf_printf(&line, "%lld", f->i);
			else
				buf_printf(&line, "%.3f", f->d);
		}
	}
	emit(&line);
	buf_free(&line);
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_event(level, msg, NULL, 0);
}
