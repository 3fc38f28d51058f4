/*
 * Shared libraries loaded on first use (dlopen) instead of at start.
 *
 * For the big ones only some commands need: libcurl (S3 storage, in
 * blob/s3.c), XGBoost (models, models/xgb.c), libmicrohttpd (`sheaf serve`,
 * http/mhd.c), libcrypto (SHA-256, base/sha256.c), libzip (XLSX,
 * ingest/xlsx.c) and uchardet (files that are not UTF-8,
 * ingest/encoding.c).  Linked the usual way, each is loaded, relocated and
 * initialised at every start of sheaf, and Debian builds them with
 * immediate binding, so every symbol of theirs and of their own libraries
 * (TLS, Kerberos, LDAP, GnuTLS, the C++ runtime...) is looked up then:
 * `sheaf --version` took 8-9 ms with all of them linked, about 2 ms
 * without, a cost paid by every CLI command, most of which never serve
 * HTTP, store to S3, read an XLSX or train a model.
 *
 * A user module keeps a table of function pointers, typed from the
 * library's own header (__typeof__), describes it with DYNLIB_LAZY and
 * calls dynlib_ready before using it.
 * The library's name is its SONAME, found by the Makefile
 * (SHEAF_CURL_SONAME, SHEAF_XGBOOST_SONAME, SHEAF_MHD_SONAME,
 * SHEAF_CRYPTO_SONAME, SHEAF_ZIP_SONAME, SHEAF_UCHARDET_SONAME); only the
 * sheaf binary leaves them out of its link (LAZY_PKGS).
 */
#ifndef SHEAF_BASE_DYNLIB_H
#define SHEAF_BASE_DYNLIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "base/error.h"

struct dynlib_sym {
	const char *name;   /* the symbol */
	void *slot;         /* the function pointer that receives its address */
};

/* Loads the library soname (kept loaded for the life of the process) and
 * sets each syms[i].slot.  0, or -1 with e set (the library or one of the
 * symbols is missing); call it once (e.g. under pthread_once) and keep
 * the result. */
int dynlib_load(const char *soname, const struct dynlib_sym *syms, size_t n, struct error *e);

/* A library loaded by the first dynlib_ready, from any thread: what to
 * load (set by DYNLIB_LAZY) and how that went. */
struct dynlib_lazy {
	const char *soname;
	const struct dynlib_sym *syms;
	size_t n;
	pthread_mutex_t lock;
	atomic_int state;     /* 0 not tried yet, 1 loaded, -1 failed (err says why) */
	struct error err;
};

/* A static struct dynlib_lazy for soname and the array syms. */
#define DYNLIB_LAZY(soname, syms) \
	{ (soname), (syms), sizeof(syms) / sizeof *(syms), PTHREAD_MUTEX_INITIALIZER, 0, { { 0 } } }

/* Loads l's library and fills its slots the first time; 0 once they are
 * set, or -1 with e set ("cannot load ...": the same answer every call). */
int dynlib_ready(struct dynlib_lazy *l, struct error *e);

#endif
