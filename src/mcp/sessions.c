/*
 * The 2025-era MCP session table (sessions.h): a small array scanned
 * linearly under one lock.  Sessions are few (SHEAF_MCP_SESSIONS, 1000 by
 * default) and each request touches the table once or twice, so a scan
 * costs less than the request's JSON.
 */
#include "mcp/sessions.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/id.h"

struct entry {
	char id[MCP_SESSION_ID_LEN + 1];   /* "" when free */
	char user_id[USER_ID_MAX + 1];
	struct mcp_session state;
	int64_t used_ns;
};

struct running {
	struct running *next;
	char session[MCP_SESSION_ID_LEN + 1];
	char *key;
	struct mcp_exchange *x;
};

struct mcp_sessions {
	pthread_mutex_t lock;
	struct entry *slots;
	size_t max;
	int64_t ttl_ns;
	struct running *running;
};

struct mcp_sessions *mcp_sessions_new(size_t max, long long ttl_s)
{
	struct mcp_sessions *t = xcalloc(1, sizeof *t);
	pthread_mutex_init(&t->lock, NULL);
	t->slots = xcalloc(max, sizeof *t->slots);
	t->max = max;
	t->ttl_ns = ttl_s * 1000000000LL;
	return t;
}

void mcp_sessions_free(struct mcp_sessions *t)
{
	if (!t)
		return;
	while (t->running) {
		struct running *r = t->running;
		t->running = r->next;
		free(r->key);
		free(r);
	}
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	free(t);
}

static bool live(const struct mcp_sessions *t, const struct entry *e, int64_t now)
{
	return e->id[0] && now - e->used_ns <= t->ttl_ns;
}

static struct entry *find(struct mcp_sessions *t, const char *id, int64_t now)
{
	if (!id || strlen(id) != MCP_SESSION_ID_LEN)
		return NULL;
	for (size_t i = 0; i < t->max; i++)
		if (live(t, &t->slots[i], now) && strcmp(t->slots[i].id, id) == 0)
			return &t->slots[i];
	return NULL;
}

void mcp_sessions_open(struct mcp_sessions *t, const char *user_id,
		       const struct mcp_session *state, char id[MCP_SESSION_ID_LEN + 1])
{
	id_random(id, MCP_SESSION_ID_LEN * 3 / 4);   /* 24 random bytes, 32 characters */
	int64_t now = clock_mono_ns();
	pthread_mutex_lock(&t->lock);
	/* A free or expired slot, else (full) the one idle longest. */
	struct entry *slot = &t->slots[0];
	for (size_t i = 0; i < t->max; i++) {
		if (!live(t, &t->slots[i], now)) {
			slot = &t->slots[i];
			break;
		}
		if (t->slots[i].used_ns < slot->used_ns)
			slot = &t->slots[i];
	}
	memcpy(slot->id, id, MCP_SESSION_ID_LEN + 1);
	snprintf(slot->user_id, sizeof slot->user_id, "%s", user_id);
	slot->state = *state;
	slot->used_ns = now;
	pthread_mutex_unlock(&t->lock);
}

bool mcp_sessions_get(struct mcp_sessions *t, const char *id, const char *user_id,
		      struct mcp_session *state)
{
	int64_t now = clock_mono_ns();
	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, id, now);
	bool ok = e && strcmp(e->user_id, user_id) == 0;
	if (ok) {
		e->used_ns = now;
		*state = e->state;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void mcp_sessions_put(struct mcp_sessions *t, const char *id, const struct mcp_session *state)
{
	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, id, clock_mono_ns());
	if (e)
		e->state = *state;
	pthread_mutex_unlock(&t->lock);
}

bool mcp_sessions_close(struct mcp_sessions *t, const char *id, const char *user_id)
{
	pthread_mutex_lock(&t->lock);
	struct entry *e = find(t, id, clock_mono_ns());
	bool ok = e && strcmp(e->user_id, user_id) == 0;
	if (ok)
		memset(e, 0, sizeof *e);
	for (struct running *r = t->running; ok && r; r = r->next)
		if (strcmp(r->session, id) == 0)
			atomic_store(&r->x->cancelled, true);
	pthread_mutex_unlock(&t->lock);
	return ok;
}

void mcp_sessions_track(struct mcp_sessions *t, const char *id, const char *request_key,
			struct mcp_exchange *x)
{
	struct running *r = xcalloc(1, sizeof *r);
	snprintf(r->session, sizeof r->session, "%s", id);
	r->key = xstrdup(request_key);
	r->x = x;
	pthread_mutex_lock(&t->lock);
	r->next = t->running;
	t->running = r;
	pthread_mutex_unlock(&t->lock);
}

void mcp_sessions_untrack(struct mcp_sessions *t, struct mcp_exchange *x)
{
	pthread_mutex_lock(&t->lock);
	for (struct running **p = &t->running; *p; p = &(*p)->next)
		if ((*p)->x == x) {
			struct running *r = *p;
			*p = r->next;
			free(r->key);
			free(r);
			break;
		}
	pthread_mutex_unlock(&t->lock);
}

void mcp_sessions_cancel(struct mcp_sessions *t, const char *id, const char *request_key)
{
	pthread_mutex_lock(&t->lock);
	for (struct running *r = t->running; r; r = r->next)
		if (strcmp(r->session, id) == 0 && strcmp(r->key, request_key) == 0)
			atomic_store(&r->x->cancelled, true);
	pthread_mutex_unlock(&t->lock);
}
