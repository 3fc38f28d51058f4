/* libmicrohttpd's function table, filled on first use; see mhd.h. */
#include "http/mhd.h"

#include "base/dynlib.h"

#ifndef SHEAF_MHD_SONAME
#define SHEAF_MHD_SONAME "libmicrohttpd.so.12"
#endif

struct mhd_api mhd;

#define SYM(f) { "MHD_" #f, &mhd.f }
static const struct dynlib_sym mhd_syms[] = {
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
static struct dynlib_lazy mhd_lib = DYNLIB_LAZY(SHEAF_MHD_SONAME, mhd_syms);

int mhd_load(struct error *e)
{
	return dynlib_ready(&mhd_lib, e);
}
