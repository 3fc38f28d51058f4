/*
 * SQLite's heap, metered per thread: the memory limit of user queries.
 *
 * sqlmem_install() puts a thin allocator in front of malloc for all of
 * SQLite (it must run before SQLite is first used: `sheaf` calls it at the
 * top of main).  A thread that opens a budget with sqlmem_begin() has every
 * SQLite allocation it makes charged to that budget until sqlmem_end(); an
 * allocation that would take the budget past its limit fails, which SQLite
 * reports as SQLITE_NOMEM and unwinds cleanly.  Frees on that thread give
 * bytes back.  Threads without a budget are not metered, so the metadata
 * store and the importer are never limited by a user's query.
 *
 * A query opens its own connection inside its budget and closes it there,
 * so what the budget counts is what the query holds: its page cache,
 * sorter, temporary b-trees and values.
 *
 * This module holds the process's one piece of allocator state (the
 * per-thread budget pointer).
 */
#ifndef SHEAF_QUERY_MEMORY_H
#define SHEAF_QUERY_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

struct sqlmem_budget {
	int64_t limit;      /* bytes */
	int64_t used;       /* bytes held now (may dip below 0: frees of older blocks) */
	int64_t peak;
	bool exceeded;      /* an allocation was refused */
};

/* 0, or -1 when SQLite was already in use (budgets then never bite). */
int sqlmem_install(void);
bool sqlmem_installed(void);

/* Charges this thread's SQLite allocations to b (limit set by the caller). */
void sqlmem_begin(struct sqlmem_budget *b);
void sqlmem_end(void);

#endif
