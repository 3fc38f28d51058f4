/*
 * GET /health: is every dependency usable right now?  The body says which
 * check failed; why (paths, errno text) goes to the log only, since anyone
 * can call this endpoint.
 */
#include "api/api.h"
#include "app.h"
#include "base/clock.h"
#include "base/log.h"

void api_health(struct request *req)
{
	struct app *app = req->app;
	struct error e;
	bool healthy = true;
	json_t *checks = json_object();

	if (store_ping(app->store, &e) == STORE_OK) {
		json_object_set_new(checks, "database", json_string("ok"));
	} else {
		healthy = false;
		log_warn("health: database: %s", e.msg);
		json_object_set_new(checks, "database", json_string("error: unusable (see the server log)"));
	}
	if (blob_check(app->blob, &e) == BLOB_OK) {
		json_object_set_new(checks, "storage", json_string("ok"));
	} else {
		healthy = false;
		log_warn("health: storage: %s", e.msg);
		json_object_set_new(checks, "storage", json_string("error: unusable (see the server log)"));
	}

	char ts[RFC3339_LEN];
	http_add_header(req, "Cache-Control", "no-store");
	http_reply_json(req, healthy ? 200 : 503,
			json_pack("{s:s, s:s, s:s, s:o}", "status", healthy ? "healthy" : "unhealthy",
				  "timestamp", clock_rfc3339(clock_now_ms(), ts), "version",
				  app->version, "checks", checks));
}
