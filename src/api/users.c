/*
 * The signed-in user's own account: GET|PATCH /api/users/me and
 * POST /api/users/me/password.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "auth/identity.h"
#include "base/clock.h"
#include "base/log.h"

/* The caller's row, or -1 after replying. */
static int me(struct request *req, struct user_row *u)
{
	struct error e;
	enum store_rc rc = store_user_get(req->app->store, req->user_id, u, &e);
	if (rc == STORE_OK)
		return 0;
	if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 401, "invalid_token", "your account no longer exists");
	else
		api_store_failed(req, "read user", &e);
	return -1;
}

void api_me_get(struct request *req)
{
	struct user_row u;
	if (me(req, &u) == 0)
		http_reply_json(req, 200, api_user_json(&u));
}

void api_me_update(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	static const char *const fields[] = { "name", "email", NULL };
	const char *name = NULL, *email = NULL;
	char clean_name[USER_NAME_MAX + 1], clean_email[EMAIL_MAX + 1];
	struct error e;
	if (http_json_only(req, body, fields) || http_json_string(req, body, "name", false, &name) ||
	    http_json_string(req, body, "email", false, &email))
		goto out;
	if (name && user_name_clean(name, clean_name, &e)) {
		http_reply_error(req, 422, "invalid_field", "name: %s", e.msg);
		goto out;
	}
	if (email && email_normalise(email, clean_email, &e)) {
		http_reply_error(req, 422, "invalid_field", "email: %s", e.msg);
		goto out;
	}
	struct user_row u;
	enum store_rc rc = store_user_update(req->app->store, req->user_id,
					     name ? clean_name : NULL, email ? clean_email : NULL,
					     clock_now_ms(), &u, &e);
	if (rc == STORE_OK)
		http_reply_json(req, 200, api_user_json(&u));
	else if (rc == STORE_CONFLICT)
		http_reply_error(req, 409, "conflict", "another account already uses this email");
	else if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 401, "invalid_token", "your account no longer exists");
	else
		api_store_failed(req, "update user", &e);
out:
	json_decref(body);
}

static void password_finish(struct request *req, void *arg)
{
	struct password_job *job = arg;
	struct user_row *u = &job->u;
	char hash[PASSWORD_HASH_MAX] = "";
	struct error e;
	enum password_rc prc = password_verify(req->app->hasher, u->password_hash, job->password,
					       &e);
	if (prc != PASSWORD_MISMATCH)   /* not a failed guess */
		api_account_refund(req, u->email);
	if (prc == PASSWORD_MISMATCH) {
		http_reply_error(req, 403, "invalid_credentials", "the current password is wrong");
		goto out;
	}
	if (prc == PASSWORD_OK)
		prc = password_hash(req->app->hasher, job->new_password, hash, &e);
	if (prc != PASSWORD_OK) {
		api_hasher_failed(req, prc, &e);
		goto out;
	}
	enum store_rc rc = store_user_set_password(req->app->store, u->id, hash, u->password_hash,
						   true, clock_now_ms(), &e);
	if (rc == STORE_CONFLICT) {
		http_reply_error(req, 409, "conflict", "the password was changed by another request "
				 "meanwhile; log in again and retry");
		goto out;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "change password", &e);
		goto out;
	}
	log_fields(LOG_INFO, "password_changed", LOG_STR("user_id", u->id),
		   LOG_STR("request_id", req->request_id));
	/* Every earlier token is now refused; this caller gets a fresh pair. */
	if (me(req, u) == 0)
		api_start_login(req, 200, u);
out:
	sodium_memzero(hash, sizeof hash);
	api_password_job_done(job);
}

void api_me_password(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	static const char *const fields[] = { "current_password", "new_password", NULL };
	struct password_job *job = api_password_job(req, body);
	struct error e;
	if (http_json_only(req, body, fields) ||
	    http_json_string(req, body, "current_password", true, &job->password) ||
	    http_json_string(req, body, "new_password", true, &job->new_password) ||
	    me(req, &job->u))
		goto fail;
	if (password_policy_check(job->new_password, job->u.email, &e)) {
		http_reply_error(req, 422, "invalid_field", "new_password: %s", e.msg);
		goto fail;
	}
	/* Guessing the current password with a stolen access token counts
	 * against the same per-account limit as failed logins. */
	if (api_account_attempt(req, job->u.email))
		goto fail;
	if (api_defer_password_job(req, password_finish, job))
		api_account_refund(req, job->u.email);
	return;
fail:
	api_password_job_done(job);
}
