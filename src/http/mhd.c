/* libmicrohttpd's function table, filled on first use; see mhd.h. */
#include "http/mhd.h"

#include <pthread.h>

#include "base/dynlib.h"

#ifndef SHEAF_MHD_SONAME
#define SHEAF_MHD_SONAME "libmicrohttpd.so.12"
#endif

struct mhd_api mhd;
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static struct error mhd_load_error;
static int mhd_loaded = -1;

static void mhd_open(void)
{
#define SYM(f) { "MHD_" #f, &mhd.f }
	static const struct dynlib_sym syms[] = {
		SYM(add_response_header),
		SYM(create_response_from_buffer),
		SYM(create_response_from_callback),
		SYM(create_response_from_fd_at_offset64),
		SYM(destroy_response),
		SYM(get_connection_info),
		SYM(get_connection_values),
		SYM(get_connection_values_n),
		SYM(lookup_connection_value),
		SYM(queue_response),
		SYM(quiesce_daemon),
		SYM(resume_connection),
		SYM(start_daemon),
		SYM(stop_daemon),
		SYM(suspend_connection),
	};
#undef SYM
	mhd_loaded = dynlib_load(SHEAF_MHD_SONAME, syms, sizeof syms / sizeof *syms,
				 &mhd_load_error);
}

int mhd_load(struct error *e)
{
	pthread_once(&mhd_once, mhd_open);
	if (mhd_loaded < 0)
		return error_set(e, "%s", mhd_load_error.msg);
	return 0;
}
