/*
 * Accounts and tokens (seeds 002, 004): register, login, refresh, logout,
 * and the check every ROUTE_USER request passes (api_authenticate).
 *
 * Access tokens are short-lived HS256 JWTs; refresh tokens are random,
 * stored hashed, and rotate on every use.  A refresh token used twice means
 * one copy was stolen: its whole family (every token descended from that
 * login) is revoked and the owner has to log in again.
 *
 * Login and registration are rate limited per client address and per email
 * through the cache.  Logins for unknown emails verify against a decoy hash,
 * so they answer with the same message in about the same time as a wrong
 * password.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "app.h"
#include "auth/identity.h"
#include "auth/secret.h"
#include "base/clock.h"
#include "base/log.h"

#define WRONG_LOGIN "wrong email or password"

json_t *api_user_json(const struct user_row *u)
{
	char created[RFC3339_LEN], updated[RFC3339_LEN];
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", u->id, "email", u->email, "name",
			 u->name, "created_at", clock_rfc3339(u->created_at, created),
			 "updated_at", clock_rfc3339(u->updated_at, updated));
}

void api_store_failed(struct request *req, const char *what, const struct error *e)
{
	log_error("%s (request %s): %s", what, req->request_id, e->msg);
	http_reply_error(req, 500, "internal", "the metadata store failed; see the server log");
}

void api_hasher_failed(struct request *req, enum password_rc rc, const struct error *e)
{
	if (rc == PASSWORD_BUSY) {
		http_add_header(req, "Retry-After", "1");
		http_reply_error(req, 503, "busy", "too many password checks are running; "
				 "try again in a moment");
		return;
	}
	log_error("password hashing (request %s): %s", req->request_id, e->msg);
	http_reply_error(req, 500, "internal", "password hashing failed; see the server log");
}

/* Counts one event against key; replies 429 and returns -1 when over limit.
 * With peek, only checks.  A failing cache is logged and lets the request
 * through: a broken limiter must not lock everyone out. */
static int rate_check(struct request *req, const char *key, long long limit, bool peek,
		      const char *what)
{
	const struct config *cfg = req->app->cfg;
	int64_t window = cfg->auth_rate_window * 1000, retry = 0;
	struct error e;
	int ok = peek ? ratelimit_peek(req->app->cache, key, limit, window, &retry, &e)
		      : ratelimit_hit(req->app->cache, key, limit, window, &retry, &e);
	if (ok < 0) {
		log_warn("rate limit %s unavailable (request %s): %s", key, req->request_id, e.msg);
		return 0;
	}
	if (ok)
		return 0;
	char secs[24];
	snprintf(secs, sizeof secs, "%lld", (long long)retry);
	http_add_header(req, "Retry-After", secs);
	http_reply_error(req, 429, "rate_limited", "too many %s; try again in %lld s", what,
			 (long long)retry);
	log_fields(LOG_WARN, "rate_limited", LOG_STR("key", key),
		  LOG_STR("request_id", req->request_id));
	return -1;
}

static int rate_address(struct request *req, const char *action)
{
	char addr[HTTP_ADDR_MAX], key[160];
	snprintf(key, sizeof key, "rl:auth:addr:%s", http_client_address(req, addr));
	char what[64];
	snprintf(what, sizeof what, "%s requests from this address", action);
	return rate_check(req, key, req->app->cfg->auth_rate_per_address, false, what);
}

static void account_key(const char *email, char key[CACHE_KEY_MAX])
{
	snprintf(key, CACHE_KEY_MAX, "rl:auth:acct:%s", email);
}

/* Every password check is counted as a failure before it runs, and given
 * back when it succeeds: counting only after the (slow) check would let
 * many guesses sent at once all pass the limit. */
int api_account_attempt(struct request *req, const char *email)
{
	char key[CACHE_KEY_MAX];
	account_key(email, key);
	return rate_check(req, key, req->app->cfg->auth_rate_per_account, false,
			  "failed attempts for this account");
}

void api_account_refund(struct request *req, const char *email)
{
	char key[CACHE_KEY_MAX];
	account_key(email, key);
	int64_t v, ttl;
	struct error e;
	if (cache_incr(req->app->cache, key, -1, req->app->cfg->auth_rate_window * 1000, &v, &ttl,
		       &e) != CACHE_OK)
		log_warn("rate limit %s unavailable: %s", key, e.msg);
}

/* Signs an access token for u, valid for SHEAF_ACCESS_TOKEN_TTL from now. */
static char *access_token(struct request *req, const struct user_row *u, int64_t now_ms)
{
	struct jwt_claims c = { .iat = now_ms / 1000, .ver = u->token_version };
	c.exp = c.iat + req->app->cfg->access_ttl;
	snprintf(c.sub, sizeof c.sub, "%s", u->id);
	id_random(c.jti, 16);
	return jwt_sign(&req->app->signing_key, &c);
}

static void reply_tokens(struct request *req, int status, const struct user_row *u,
			 const char refresh[REFRESH_TOKEN_CHARS + 1], int64_t now_ms)
{
	char *access = access_token(req, u, now_ms);
	http_add_header(req, "Cache-Control", "no-store");
	http_reply_json(req, status, json_pack("{s:s, s:s, s:I, s:s}", "access_token", access,
					       "token_type", "bearer", "expires_in",
					       (json_int_t)req->app->cfg->access_ttl,
					       "refresh_token", refresh));
	free(access);
}

/* A fresh refresh row for user at now; the token itself goes to token. */
static void refresh_row_new(struct request *req, struct refresh_row *r, const char *user,
			    int64_t now_ms, char token[REFRESH_TOKEN_CHARS + 1])
{
	memset(r, 0, sizeof *r);
	refresh_token_new(token);
	refresh_token_hash(token, r->token_hash);
	snprintf(r->user_id, sizeof r->user_id, "%s", user);
	r->created_at = now_ms;
	r->expires_at = now_ms + req->app->cfg->refresh_ttl * 1000;
}

void api_start_login(struct request *req, int status, const struct user_row *u)
{
	int64_t now = clock_now_ms();
	struct refresh_row r;
	char token[REFRESH_TOKEN_CHARS + 1];
	refresh_row_new(req, &r, u->id, now, token);
	id_random(r.family_id, 16);
	r.token_version = u->token_version;
	struct error e;
	enum store_rc rc = store_refresh_insert(req->app->store, &r, &e);
	if (rc == STORE_CONFLICT) {
		/* A password change landed between reading the account and now. */
		http_reply_error(req, 401, "invalid_credentials",
				 "the password changed while logging in; log in again");
		return;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "store refresh token", &e);
		return;
	}
	reply_tokens(req, status, u, token, now);
}

/* The body's email, normalised; -1 after replying 422. */
static int body_email(struct request *req, json_t *body, char email[EMAIL_MAX + 1])
{
	const char *given;
	if (http_json_string(req, body, "email", true, &given))
		return -1;
	struct error e;
	if (email_normalise(given, email, &e)) {
		http_reply_error(req, 422, "invalid_field", "email: %s", e.msg);
		return -1;
	}
	return 0;
}

int api_defer_password_job(struct request *req, http_deferred_fn fn, struct password_job *job)
{
	if (http_defer(req, fn, job) == 0)
		return 0;
	json_decref(job->body);
	return -1;
}

struct password_job *api_password_job(struct request *req, json_t *body)
{
	struct password_job *job = pool_alloc(req->pool, sizeof *job);
	job->body = body;
	return job;
}

void api_password_job_done(struct password_job *job)
{
	sodium_memzero(job->u.password_hash, sizeof job->u.password_hash);
	json_decref(job->body);
}

static void register_finish(struct request *req, void *arg)
{
	struct password_job *job = arg;
	struct user_row *u = &job->u;
	struct error e;
	enum password_rc prc = password_hash(req->app->hasher, job->password, u->password_hash, &e);
	if (prc != PASSWORD_OK) {
		api_hasher_failed(req, prc, &e);
		goto out;
	}
	id_random(u->id, 16);
	snprintf(u->email, sizeof u->email, "%s", job->email);
	u->created_at = u->updated_at = clock_now_ms();
	enum store_rc rc = store_user_create(req->app->store, u, &e);
	if (rc == STORE_OK) {
		log_fields(LOG_INFO, "user_registered", LOG_STR("user_id", u->id),
			   LOG_STR("request_id", req->request_id));
		http_reply_json(req, 201, api_user_json(u));
	} else if (rc == STORE_CONFLICT) {
		http_reply_error(req, 409, "conflict", "an account with this email already exists");
	} else {
		api_store_failed(req, "create user", &e);
	}
out:
	api_password_job_done(job);
}

void api_auth_register(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	struct password_job *job = api_password_job(req, body);
	const char *name = NULL;
	struct error e;
	if (rate_address(req, "sign-up") || body_email(req, body, job->email) ||
	    http_json_string(req, body, "password", true, &job->password) ||
	    http_json_string(req, body, "name", false, &name))
		goto fail;
	if (name && user_name_clean(name, job->u.name, &e)) {
		http_reply_error(req, 422, "invalid_field", "name: %s", e.msg);
		goto fail;
	}
	if (password_policy_check(job->password, job->email, &e)) {
		http_reply_error(req, 422, "invalid_field", "password: %s", e.msg);
		goto fail;
	}
	/* Sign-ups for an email have a counter of their own, so registering does
	 * not use up the new account's failed-login allowance. */
	char key[CACHE_KEY_MAX];
	snprintf(key, sizeof key, "rl:auth:signup:%s", job->email);
	if (rate_check(req, key, req->app->cfg->auth_rate_per_account, false,
		       "sign-up attempts for this email"))
		goto fail;
	/* A cheap look first, so a taken email costs no hash; the insert
	 * still settles a race between two sign-ups. */
	struct user_row existing;
	enum store_rc rc = store_user_find_email(req->app->store, job->email, &existing, &e);
	if (rc == STORE_OK) {
		http_reply_error(req, 409, "conflict", "an account with this email already exists");
		goto fail;
	}
	if (rc == STORE_ERROR) {
		api_store_failed(req, "look up user", &e);
		goto fail;
	}
	api_defer_password_job(req, register_finish, job);
	return;
fail:
	json_decref(body);
}

static void login_finish(struct request *req, void *arg)
{
	struct password_job *job = arg;
	struct user_row *u = &job->u;
	struct error e;
	enum password_rc prc = password_verify(req->app->hasher,
					       job->known ? u->password_hash : NULL,
					       job->password, &e);
	if (prc != PASSWORD_MISMATCH && job->email_ok)   /* not a failed guess */
		api_account_refund(req, job->email);
	if (prc == PASSWORD_MISMATCH) {
		log_fields(LOG_INFO, "login_failed", LOG_STR("request_id", req->request_id));
		http_add_header(req, "WWW-Authenticate", "Bearer realm=\"sheaf\"");
		http_reply_error(req, 401, "invalid_credentials", WRONG_LOGIN);
		goto out;
	}
	if (prc != PASSWORD_OK) {
		api_hasher_failed(req, prc, &e);
		goto out;
	}
	if (password_needs_rehash(req->app->hasher, u->password_hash)) {
		/* Stronger settings since this hash was made: upgrade it while we have
		 * the password.  Failing to is not worth failing the login. */
		char fresh[PASSWORD_HASH_MAX];
		if (password_hash(req->app->hasher, job->password, fresh, &e) == PASSWORD_OK)
			store_user_set_password(req->app->store, u->id, fresh, u->password_hash,
						false, u->updated_at, &e);
	}
	log_fields(LOG_INFO, "login", LOG_STR("user_id", u->id),
		   LOG_STR("request_id", req->request_id));
	api_start_login(req, 200, u);
out:
	api_password_job_done(job);
}

void api_auth_login(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	struct password_job *job = api_password_job(req, body);
	const char *given;
	struct error e;
	if (rate_address(req, "login") || http_json_string(req, body, "email", true, &given) ||
	    http_json_string(req, body, "password", true, &job->password))
		goto fail;
	/* An address that cannot be an account is simply not found: same answer. */
	job->email_ok = email_normalise(given, job->email, &e) == 0;
	if (job->email_ok) {
		if (api_account_attempt(req, job->email))
			goto fail;
		enum store_rc rc = store_user_find_email(req->app->store, job->email, &job->u, &e);
		if (rc == STORE_ERROR) {
			api_store_failed(req, "look up user", &e);
			goto fail;
		}
		job->known = rc == STORE_OK;
	}
	if (api_defer_password_job(req, login_finish, job) && job->email_ok)
		api_account_refund(req, job->email);
	return;
fail:
	json_decref(body);
}

/* The body's refresh_token, hashed; -1 after replying (422 or 401). */
static int body_refresh_hash(struct request *req, json_t *body, char hash[REFRESH_HASH_CHARS + 1])
{
	const char *token;
	if (http_json_string(req, body, "refresh_token", true, &token))
		return -1;
	if (!refresh_token_valid(token)) {
		http_reply_error(req, 401, "invalid_token", "this is not a refresh token");
		return -1;
	}
	refresh_token_hash(token, hash);
	return 0;
}

void api_auth_refresh(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	char old[REFRESH_HASH_CHARS + 1], token[REFRESH_TOKEN_CHARS + 1];
	if (rate_address(req, "token refresh") || body_refresh_hash(req, body, old))
		goto out;
	int64_t now = clock_now_ms();
	struct refresh_row fresh;
	refresh_row_new(req, &fresh, "", now, token);
	struct error e;
	enum store_rc rc = store_refresh_rotate(req->app->store, old, &fresh, now, &e);
	struct user_row u;
	if (rc == STORE_OK)
		rc = store_user_get(req->app->store, fresh.user_id, &u, &e);
	if (rc == STORE_OK) {
		reply_tokens(req, 200, &u, token, now);
	} else if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 401, "invalid_token",
				 "the refresh token is unknown, expired or revoked; log in again");
	} else if (rc == STORE_REUSED) {
		log_fields(LOG_WARN, "refresh_token_reused", LOG_STR("user_id", fresh.user_id),
			  LOG_STR("family_id", fresh.family_id),
			  LOG_STR("request_id", req->request_id));
		http_reply_error(req, 401, "token_reused",
				 "this refresh token was already used, so a copy may have been "
				 "stolen; every token from that login is now revoked; log in again");
	} else {
		api_store_failed(req, "rotate refresh token", &e);
	}
out:
	json_decref(body);
}

void api_auth_logout(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	char hash[REFRESH_HASH_CHARS + 1];
	if (body_refresh_hash(req, body, hash))
		goto out;
	struct error e;
	enum store_rc rc = store_refresh_revoke(req->app->store, hash, clock_now_ms(), &e);
	if (rc == STORE_OK)
		http_reply_empty(req, 204);
	else if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 401, "invalid_token", "the refresh token is unknown");
	else
		api_store_failed(req, "revoke refresh token", &e);
out:
	json_decref(body);
}

static void unauthorized(struct request *req, const char *code, const char *detail)
{
	http_add_header(req, "WWW-Authenticate",
			strcmp(code, "unauthenticated") == 0
				? "Bearer realm=\"sheaf\""
				: "Bearer realm=\"sheaf\", error=\"invalid_token\"");
	http_reply_error(req, 401, code, "%s", detail);
}

int api_authenticate(struct request *req)
{
	const struct app *app = req->app;
	if (app->cfg->auth == CONFIG_AUTH_OFF) {
		snprintf(req->user_id, sizeof req->user_id, "%s", LOCAL_USER_ID);
		return 0;
	}
	const char *h = http_header(req, "Authorization");
	if (!h) {
		unauthorized(req, "unauthenticated", "this needs an access token: send "
			     "Authorization: Bearer <token> (get one from POST /api/auth/login)");
		return -1;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		unauthorized(req, "invalid_token", "the Authorization header must be "
			     "\"Bearer <access token>\"");
		return -1;
	}
	const char *token = h + 7;
	while (*token == ' ')
		token++;
	struct jwt_claims claims;
	struct error e;
	if (jwt_verify(&app->signing_key, token, clock_now_ms() / 1000, &claims, &e)) {
		unauthorized(req, "invalid_token", e.msg);
		return -1;
	}
	struct user_row u;
	enum store_rc rc = store_user_get(app->store, claims.sub, &u, &e);
	if (rc == STORE_ERROR) {
		api_store_failed(req, "look up token user", &e);
		return -1;
	}
	if (rc == STORE_NOT_FOUND) {
		unauthorized(req, "invalid_token", "the token's account no longer exists");
		return -1;
	}
	if (claims.ver != u.token_version) {
		unauthorized(req, "invalid_token", "the token was issued before the password "
			     "changed; log in again");
		return -1;
	}
	snprintf(req->user_id, sizeof req->user_id, "%s", claims.sub);
	return 0;
}
