/*
 * Running risky code in a forked child with resource limits.
 *
 * Some parsers we depend on are not safe on hostile input (FreeXL, which
 * reads legacy .xls files, can over-read, free an invalid pointer, or
 * allocate hundreds of megabytes from a few kilobytes).  sandbox_run forks,
 * caps the child's CPU time and memory, runs the function there, and tells
 * the parent how it ended: a crash or a limit costs the child, never the
 * server.  Results travel through a file the function writes (its caller
 * names it) and a short message.
 *
 * fork() in a threaded process copies only the calling thread; the child
 * uses malloc and stdio, which glibc makes safe after fork, and must not
 * touch locks other threads may have held (the store, the logger).
 */
#ifndef SHEAF_BASE_SANDBOX_H
#define SHEAF_BASE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#define SANDBOX_MSG_MAX 512

struct sandbox_limits {
	uint64_t memory_bytes;   /* address space (RLIMIT_AS); 0: none.  Not applied under
				  * AddressSanitizer, whose shadow memory needs terabytes
				  * of address space */
	int cpu_seconds;         /* RLIMIT_CPU; 0: none */
	int wall_seconds;        /* the parent kills the child after this long; 0: none */
};

/* Runs in the child: 0 on success, -1 after writing a message to msg. */
typedef int (*sandbox_fn)(void *arg, char msg[SANDBOX_MSG_MAX]);

/*
 * Runs fn(arg) in a child process under lim.  Returns 0 when it succeeded
 * (msg holds what it wrote, maybe ""), -1 when it reported failure (msg
 * holds its message), -2 when it crashed or ran out of a limit (msg says
 * which), -3 when it could not be started (msg says why).
 */
int sandbox_run(sandbox_fn fn, void *arg, const struct sandbox_limits *lim,
		char msg[SANDBOX_MSG_MAX]);

#endif
