/*
 * The metered SQLite allocator; see memory.h.  Block sizes come from
 * malloc_usable_size, so no header is added to any block and blocks
 * allocated before a budget opened can be freed under it.
 */
#include "query/memory.h"

#include <malloc.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

static _Thread_local struct sqlmem_budget *current;
static atomic_bool installed;

static bool charge(int64_t n)
{
	struct sqlmem_budget *b = current;
	if (!b || n <= 0)
		return true;
	if (b->used + n > b->limit) {
		b->exceeded = true;
		return false;
	}
	return true;
}

static void account(int64_t n)
{
	struct sqlmem_budget *b = current;
	if (!b)
		return;
	b->used += n;
	if (b->used > b->peak)
		b->peak = b->used;
}

static void *mem_malloc(int n)
{
	if (n <= 0 || !charge(n))
		return NULL;
	void *p = malloc((size_t)n);
	if (p)
		account((int64_t)malloc_usable_size(p));
	return p;
}

static void mem_free(void *p)
{
	if (!p)
		return;
	account(-(int64_t)malloc_usable_size(p));
	free(p);
}

static void *mem_realloc(void *p, int n)
{
	if (n <= 0)
		return NULL;
	int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
	if (!charge(n - old))
		return NULL;
	void *q = realloc(p, (size_t)n);
	if (q)
		account((int64_t)malloc_usable_size(q) - old);
	return q;
}

static int mem_size(void *p)
{
	return p ? (int)malloc_usable_size(p) : 0;
}

static int mem_roundup(int n)
{
	return (n + 7) & ~7;
}

static int mem_init(void *arg)
{
	(void)arg;
	return SQLITE_OK;
}

static void mem_shutdown(void *arg)
{
	(void)arg;
}

int sqlmem_install(void)
{
	static const sqlite3_mem_methods methods = {
		mem_malloc, mem_free, mem_realloc, mem_size, mem_roundup, mem_init, mem_shutdown,
		NULL,
	};
	if (atomic_load(&installed))
		return 0;
	if (sqlite3_config(SQLITE_CONFIG_MALLOC, &methods) != SQLITE_OK)
		return -1;
	atomic_store(&installed, true);
	return 0;
}

bool sqlmem_installed(void)
{
	return atomic_load(&installed);
}

void sqlmem_begin(struct sqlmem_budget *b)
{
	current = b;
}

void sqlmem_end(void)
{
	current = NULL;
}
