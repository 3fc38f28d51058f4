/* Error messages for the failure paths; see error.h. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

int error_set(struct error *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}
