/*
 * Logging to stderr, one line per event, as text or as JSON lines.
 *
 * The level and format are the module's only state, set once at start-up by
 * log_setup().  The macros test the level before any formatting happens, so
 * a disabled debug line costs one comparison.  Each line is written with a
 * single write(2), so lines from different threads never interleave.
 *
 * Text:  2026-11-21T23:30:00.123Z info  request method=GET status=200
 * JSON:  {"ts":"2026-11-21T23:30:00.123Z","level":"info","msg":"request","method":"GET","status":200}
 */
#ifndef SHEAF_BASE_LOG_H
#define SHEAF_BASE_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* LOG_NOTICE is for the few facts an operator always needs (where the server
 * listens, where data lives, that it stopped): written at every level but off. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF, LOG_NOTICE };
enum log_format { LOG_TEXT, LOG_JSON };

void log_setup(enum log_level level, enum log_format format);
bool log_enabled(enum log_level level);

/* A structured field.  Use the LOG_STR/LOG_INT/LOG_NUM constructors. */
struct log_field {
	const char *key;
	enum { LOG_FIELD_STR, LOG_FIELD_INT, LOG_FIELD_NUM } type;
	const char *s;
	long long i;
	double d;
};
#define LOG_STR(k, v) ((struct log_field){ .key = (k), .type = LOG_FIELD_STR, .s = (v) })
#define LOG_INT(k, v) ((struct log_field){ .key = (k), .type = LOG_FIELD_INT, .i = (long long)(v) })
#define LOG_NUM(k, v) ((struct log_field){ .key = (k), .type = LOG_FIELD_NUM, .d = (double)(v) })

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_event(enum log_level level, const char *msg, const struct log_field *fields, size_t n);

/* An event with fields: log_fields(LOG_INFO, "login", LOG_STR("user_id", id), ...). */
#define log_fields(level, msg, ...) do { if (log_enabled(level)) { \
	const struct log_field fields_[] = { __VA_ARGS__ }; \
	log_event((level), (msg), fields_, sizeof fields_ / sizeof fields_[0]); } } while (0)

#define log_debug(...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_notice(...) do { if (log_enabled(LOG_NOTICE)) log_write(LOG_NOTICE, __VA_ARGS__); } while (0)
#define log_info(...)  do { if (log_enabled(LOG_INFO))  log_write(LOG_INFO, __VA_ARGS__); } while (0)
#define log_warn(...)  do { if (log_enabled(LOG_WARN))  log_write(LOG_WARN, __VA_ARGS__); } while (0)
#define log_error(...) do { if (log_enabled(LOG_ERROR)) log_write(LOG_ERROR, __VA_ARGS__); } while (0)

#endif
