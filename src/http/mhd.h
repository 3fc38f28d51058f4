/*
 * libmicrohttpd, loaded on first use (base/dynlib.h), for the HTTP layer
 * only (server.c, reply.c, push.c).  Only `sheaf serve` needs it, and with
 * GnuTLS and its own libraries it was the largest part of every CLI
 * command's start.
 *
 * The table holds its functions without the MHD_ prefix.  http_server_start
 * fills it before it starts a daemon; every other call is made for a
 * connection of a running daemon, so none comes before the load.
 */
#ifndef SHEAF_HTTP_MHD_H
#define SHEAF_HTTP_MHD_H

#include <microhttpd.h>

#include "base/error.h"

struct mhd_api {
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_create_response_from_callback) *create_response_from_callback;
	__typeof__(MHD_create_response_from_fd_at_offset64) *create_response_from_fd_at_offset64;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_get_connection_info) *get_connection_info;
	__typeof__(MHD_get_connection_values) *get_connection_values;
	__typeof__(MHD_get_connection_values_n) *get_connection_values_n;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_quiesce_daemon) *quiesce_daemon;
	__typeof__(MHD_resume_connection) *resume_connection;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_suspend_connection) *suspend_connection;
};

/* Written once by mhd_load (through dynlib_ready), read-only after. */
extern struct mhd_api mhd;

/* Loads libmicrohttpd and fills mhd; from any thread, any number of times
 * (the first call decides).  0, or -1 with e set (the library or one of its
 * functions is missing). */
int mhd_load(struct error *e);

#endif
