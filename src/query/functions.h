/*
 * SQL aggregates sheaf adds to SQLite for queries and tools: median(x),
 * percentile(x, p), stddev(x), variance(x) (see functions.c).
 */
#ifndef SHEAF_QUERY_FUNCTIONS_H
#define SHEAF_QUERY_FUNCTIONS_H

#include <sqlite3.h>

/* SQLITE_OK, or SQLite's code when one could not be registered. */
int sql_functions_register(sqlite3 *db);

#endif
