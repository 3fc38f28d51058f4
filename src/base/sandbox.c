/*
 * sandbox_run: fork, limit, run, report (sandbox.h).
 */
#include "base/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* The child's exit status when fn reported a failure; other non-zero
 * statuses are crashes (a sanitizer's report exits with 1). */
#define EXIT_REPORTED 77

/* The process's virtual size in bytes (0 if unknown). */
static uint64_t address_space(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long long pages = 0;
	if (f) {
		if (fscanf(f, "%llu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The child's side: limits, the function, its message down the pipe. */
static void child(sandbox_fn fn, void *arg, const struct sandbox_limits *lim, int wfd)
{
	/* A crash must end the child, whatever handlers the parent installed
	 * (a test framework's, a sanitizer's). */
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGXCPU };
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		signal(fatal[i], SIG_DFL);
	/* A stop signal for the whole process group (Ctrl-C, systemd) is the
	 * server's to handle; the child is stopped by the parent. */
	static const int ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		signal(ignored[i], SIG_IGN);
	sigset_t all_open;
	sigemptyset(&all_open);
	sigprocmask(SIG_SETMASK, &all_open, NULL);
	/* The child says how it ended through the pipe; what a crashing
	 * library (or a sanitizer catching it) prints is not for the server's
	 * log, where it would read as the server's own crash. */
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDERR_FILENO);
		close(null);
	}
	/* Nothing of the server's (listening socket, connections, database
	 * files) stays open in the child. */
	if (wfd > 3)
		close_range(3, (unsigned)wfd - 1, 0);
	close_range((unsigned)wfd + 1, ~0U, 0);
	if (lim->cpu_seconds > 0) {
		struct rlimit r = { (rlim_t)lim->cpu_seconds, (rlim_t)lim->cpu_seconds + 1 };
		setrlimit(RLIMIT_CPU, &r);
	}
	if (lim->memory_bytes && !UNDER_ASAN) {
		/* On top of what the fork inherited (the server's threads and
		 * heaps), which the child never touches. */
		uint64_t now = address_space();
		struct rlimit r = { (rlim_t)(now + lim->memory_bytes),
				    (rlim_t)(now + lim->memory_bytes) };
		setrlimit(RLIMIT_AS, &r);
	}
	/* No core files from a parser that was made to crash. */
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	char msg[SANDBOX_MSG_MAX] = "";
	int rc = fn(arg, msg);
	size_t n = strnlen(msg, sizeof msg - 1);
	while (n) {
		ssize_t w = write(wfd, msg, n);
		if (w <= 0)
			break;
		n -= (size_t)w;
	}
	_exit(rc == 0 ? 0 : EXIT_REPORTED);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sandbox_run(sandbox_fn fn, void *arg, const struct sandbox_limits *lim,
		char msg[SANDBOX_MSG_MAX])
{
	int fds[2];
	msg[0] = 0;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(msg, SANDBOX_MSG_MAX, "sandbox: pipe: %s", strerror(errno));
		return -3;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(msg, SANDBOX_MSG_MAX, "sandbox: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -3;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fn, arg, lim, fds[1]);
	}
	close(fds[1]);

	/* Read the message until the child closes the pipe (it exits), or the
	 * wall-clock limit passes. */
	size_t got = 0;
	bool killed = false;
	int64_t deadline = lim->wall_seconds > 0 ? now_ms() + (int64_t)lim->wall_seconds * 1000 : 0;
	for (;;) {
		int wait = -1;
		if (deadline) {
			int64_t left = deadline - now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				killed = true;
				break;
			}
			wait = (int)left;
		}
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		int r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		char scratch[256];
		char *into = got < SANDBOX_MSG_MAX - 1 ? msg + got : scratch;
		size_t room = got < SANDBOX_MSG_MAX - 1 ? SANDBOX_MSG_MAX - 1 - got : sizeof scratch;
		ssize_t n = read(fds[0], into, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (into == msg + got)
			got += (size_t)n;
	}
	close(fds[0]);
	msg[got] = 0;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed) {
		snprintf(msg, SANDBOX_MSG_MAX, "took longer than %d s", lim->wall_seconds);
		return -2;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_REPORTED)
		return -1;
	if (WIFEXITED(status)) {
		snprintf(msg, SANDBOX_MSG_MAX, "crashed (exit status %d)", WEXITSTATUS(status));
		return -2;
	}
	int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	if (sig == SIGXCPU || sig == SIGKILL)
		snprintf(msg, SANDBOX_MSG_MAX, "used more than %d s of CPU", lim->cpu_seconds);
	else
		snprintf(msg, SANDBOX_MSG_MAX, "crashed (SIG%s)%s",
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
			 lim->memory_bytes && !UNDER_ASAN ? ", or ran out of its memory limit" : "");
	return -2;
}
