/*
 * `sheaf user add EMAIL [--name NAME]` and `sheaf user passwd EMAIL`:
 * account administration from the shell, for the operator of a server with
 * no email to send reset links (a forgotten password is reset here).
 *
 * The password comes from standard input: asked for twice without echo on
 * a terminal, otherwise the first line (so scripts can pipe it in).  The
 * same policy and argon2id settings apply as for POST /api/auth/register.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/identity.h"
#include "auth/password.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "base/log.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sheaf user add EMAIL [--name NAME] [settings]\n"
		"       sheaf user passwd EMAIL [settings]\n\n"
		"add     creates an account\n"
		"passwd  sets an account's password and logs out every session it has\n\n"
		"The password is read from standard input: asked for twice on a terminal,\n"
		"otherwise the first line. Settings (--data-dir, --database-url...) are those\n"
		"of `sheaf serve --help`; run it against the same data as the server.\n");
}

/* One line from stdin without its newline; on a terminal without echo. */
static int read_line(const char *prompt, char *out, size_t cap)
{
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	bool ok = fgets(out, (int)cap, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (!ok)
		return -1;
	size_t n = strcspn(out, "\r\n");
	if (out[n] == '\0' && n + 1 == cap)
		return -1;   /* longer than the buffer */
	out[n] = '\0';
	return 0;
}

static int read_password(char *out, size_t cap, const char *email)
{
	char again[PASSWORD_MAX_BYTES + 2];
	if (read_line("new password: ", out, cap)) {
		fprintf(stderr, "sheaf: no password on standard input (or longer than %d bytes)\n",
			PASSWORD_MAX_BYTES);
		return -1;
	}
	if (isatty(STDIN_FILENO)) {
		int rc = read_line("again: ", again, sizeof again);
		bool same = rc == 0 && strcmp(out, again) == 0;
		sodium_memzero(again, sizeof again);
		if (!same) {
			fprintf(stderr, "sheaf: the two passwords differ\n");
			return -1;
		}
	}
	struct error e;
	if (password_policy_check(out, email, &e)) {
		fprintf(stderr, "sheaf: the password %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int hash_password(const struct config *cfg, const char *pw, char out[PASSWORD_HASH_MAX])
{
	struct error e;
	struct hasher *h = hasher_new((unsigned long long)cfg->password_ops,
				      (size_t)cfg->password_memory, 1, &e);
	int rc = h && password_hash(h, pw, out, &e) == PASSWORD_OK ? 0 : -1;
	if (rc)
		fprintf(stderr, "sheaf: password hashing: %s\n", e.msg);
	hasher_free(h);
	return rc;
}

static int user_add(struct store *st, const struct config *cfg, const char *email,
		    const char *name)
{
	struct user_row u = { .token_version = 0 };
	struct error e;
	if (name && user_name_clean(name, u.name, &e)) {
		fprintf(stderr, "sheaf: the name %s\n", e.msg);
		return 1;
	}
	char pw[PASSWORD_MAX_BYTES + 2];
	int rc = 1;
	if (read_password(pw, sizeof pw, email) == 0 &&
	    hash_password(cfg, pw, u.password_hash) == 0) {
		id_random(u.id, 16);
		snprintf(u.email, sizeof u.email, "%s", email);
		u.created_at = u.updated_at = clock_now_ms();
		enum store_rc src = store_user_create(st, &u, &e);
		if (src == STORE_OK) {
			printf("created user %s (%s)\n", u.id, u.email);
			rc = 0;
		} else if (src == STORE_CONFLICT) {
			fprintf(stderr, "sheaf: an account with the email %s already exists\n", email);
		} else {
			fprintf(stderr, "sheaf: %s\n", e.msg);
		}
	}
	sodium_memzero(pw, sizeof pw);
	sodium_memzero(u.password_hash, sizeof u.password_hash);
	return rc;
}

static int user_passwd(struct store *st, const struct config *cfg, const char *email)
{
	struct user_row u;
	struct error e;
	enum store_rc src = store_user_find_email(st, email, &u, &e);
	if (src != STORE_OK) {
		fprintf(stderr, "sheaf: %s\n", src == STORE_NOT_FOUND ? "no account has that email"
								       : e.msg);
		return 1;
	}
	if (strcmp(u.id, LOCAL_USER_ID) == 0) {
		fprintf(stderr, "sheaf: the built-in local user has no password\n");
		return 1;
	}
	char pw[PASSWORD_MAX_BYTES + 2], hash[PASSWORD_HASH_MAX];
	int rc = 1;
	if (read_password(pw, sizeof pw, u.email) == 0 && hash_password(cfg, pw, hash) == 0) {
		if (store_user_set_password(st, u.id, hash, NULL, true, clock_now_ms(), &e) ==
		    STORE_OK) {
			printf("password changed for %s; every session it had is logged out\n",
			       u.email);
			rc = 0;
		} else {
			fprintf(stderr, "sheaf: %s\n", e.msg);
		}
	}
	sodium_memzero(pw, sizeof pw);
	sodium_memzero(hash, sizeof hash);
	return rc;
}

int cli_user(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? EXIT_CONFIG : 0;
	}
	const char *action = argv[0];
	bool add = strcmp(action, "add") == 0;
	if (!add && strcmp(action, "passwd") != 0) {
		fprintf(stderr, "sheaf: unknown user command \"%s\"\n\n", action);
		usage(stderr);
		return EXIT_CONFIG;
	}
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "sheaf: user %s needs an email address\n", action);
		return EXIT_CONFIG;
	}
	char email[EMAIL_MAX + 1];
	struct error e;
	if (email_normalise(argv[1], email, &e)) {
		fprintf(stderr, "sheaf: the email %s\n", e.msg);
		return EXIT_CONFIG;
	}
	/* --name is ours; every other flag is a setting. */
	const char *name = NULL;
	char **rest = xcalloc((size_t)argc, sizeof *rest);
	int n = 0;
	for (int i = 2; i < argc; i++) {
		if (add && strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (add && strncmp(argv[i], "--name=", 7) == 0)
			name = argv[i] + 7;
		else
			rest[n++] = argv[i];
	}
	struct config cfg;
	int loaded = cli_load_config(&cfg, n, rest);
	free(rest);
	if (loaded)
		return EXIT_CONFIG;
	int rc = 1;
	if (fs_mkdirs(cfg.data_dir, true, false, &e)) {
		log_error("%s", e.msg);
	} else {
		struct store *st = cli_open_store(&cfg, 1);
		if (st)
			rc = add ? user_add(st, &cfg, email, name) : user_passwd(st, &cfg, email);
		store_close(st);
	}
	config_free(&cfg);
	return rc;
}
