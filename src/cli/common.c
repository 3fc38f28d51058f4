/* Set-up shared by the sub-commands: configuration and the metadata store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/identity.h"
#include "base/log.h"
#include "cli/cli.h"

int cli_load_config(struct config *cfg, int argc, char **argv)
{
	struct error e;
	if (config_load(cfg, argc, argv, ".env", &e)) {
		fprintf(stderr, "sheaf: configuration error: %s\n", e.msg);
		return -1;
	}
	log_setup((enum log_level)cfg->log_level, (enum log_format)cfg->log_format);
	if (cfg->warnings) {
		char *save, *line = strtok_r(cfg->warnings, "\n", &save);
		for (; line; line = strtok_r(NULL, "\n", &save))
			log_warn("%s", line);
	}
	return 0;
}


struct store *cli_open_store(const struct config *cfg, int connections)
{
	struct error e;
	char *url = config_database_url(cfg);
	struct store_options opts = { .connections = connections,
				      .lock_timeout_ms = (int)cfg->db_lock_timeout };
	struct store *st = store_open(url, &opts, &e);
	if (!st) {
		log_error("cannot open the metadata store %s: %s", url, e.msg);
		free(url);
		return NULL;
	}
	int applied;
	if (store_migrate(st, &applied, &e) != STORE_OK) {
		log_error("cannot migrate the metadata store %s: %s", url, e.msg);
		store_close(st);
		free(url);
		return NULL;
	}
	log_notice("metadata store: %s (%s, %d migration%s applied)", url, st->ops->name, applied,
		 applied == 1 ? "" : "s");
	free(url);
	return st;
}

/* The owner: the local user, or the account with --user's email. */
int cli_find_owner(struct store *st, const char *email, char *out, size_t cap)
{
	if (!email) {
		snprintf(out, cap, "%s", LOCAL_USER_ID);
		return 0;
	}
	char norm[EMAIL_MAX + 1];
	struct user_row u;
	struct error e;
	if (email_normalise(email, norm, &e)) {
		fprintf(stderr, "sheaf: --user: the email %s\n", e.msg);
		return -1;
	}
	enum store_rc rc = store_user_find_email(st, norm, &u, &e);
	if (rc != STORE_OK) {
		fprintf(stderr, "sheaf: --user: %s\n", rc == STORE_NOT_FOUND ? "no such account" : e.msg);
		return -1;
	}
	snprintf(out, cap, "%s", u.id);
	return 0;
}
