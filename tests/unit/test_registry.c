/*
 * The model registry's warm cache (registry/cache.h) over a real local
 * object store holding model_save bytes of a small model trained here:
 * a model loads once and is shared warm; put and forget (a held model
 * outlives its forget, a forgotten key loads anew); eviction past the
 * limit (least recently used unheld models first, held ones never); pinned
 * models never evicted; eight threads asking for one cold key load it
 * once; a many-key stress from many threads; corrupt, missing and invalid
 * objects refused with a message and nothing cached.
 *
 * Then frame_query (frame/frame.h), the query results training reads: a
 * dataset written by the real importer, result columns of data keeping
 * their kinds, expressions getting theirs from their values (integers,
 * reals, integers and reals, mixed values and all-NULL columns as text),
 * an empty result, compound selects, and refused or failing queries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/alloc.h"
#include "blob/blob.h"
#include "datasets/table.h"
#include "frame/frame.h"
#include "ingest/import.h"
#include "models/model.h"
#include "query/memory.h"
#include "registry/cache.h"

#include "testutil.h"

#define N 100
#define KEYS 6

static const char *const weathers[] = { "맑음", "비", "눈" };

struct fx {
	char dir[64];
	struct blob_store *bs;
	char *bytes;            /* model_save of the trained model */
	size_t len;
	json_t *rows;           /* rows to predict, and what the model says */
	json_t *want;
	char key[KEYS][64];     /* each holding the bytes */
	struct table *t;        /* the frame_query dataset */
	char table_path[128];
};

static struct fx *fx;

/* ---- fixture ------------------------------------------------------------- */

static void put_object(const char *key, const char *data, size_t len)
{
	struct mem_reader r = { data, len };
	struct error e = { { 0 } };
	expect_rc(blob_put(fx->bs, key, mem_read, &r, NULL, &e), BLOB_OK, e);
}

static struct model *train_small(struct error *e)
{
	struct frame_column w = { 0 }, x = { 0 }, y = { 0 };
	w.name = xstrdup("weather");
	w.kind = COLUMN_TEXT;
	w.n = N;
	w.valid = xmalloc(N);
	w.code = xmalloc(N * sizeof *w.code);
	w.ndict = 3;
	w.dict = xmalloc(3 * sizeof *w.dict);
	w.dict_len = xmalloc(3 * sizeof *w.dict_len);
	for (size_t k = 0; k < 3; k++) {
		w.dict[k] = xstrdup(weathers[k]);
		w.dict_len[k] = (uint32_t)strlen(weathers[k]);
	}
	struct frame_column *nums[2] = { &x, &y };
	const char *names[2] = { "x", "y" };
	for (int i = 0; i < 2; i++) {
		nums[i]->name = xstrdup(names[i]);
		nums[i]->kind = COLUMN_REAL;
		nums[i]->n = N;
		nums[i]->valid = xmalloc(N);
		nums[i]->num = xmalloc(N * sizeof(double));
	}
	for (size_t r = 0; r < N; r++) {
		w.code[r] = (uint32_t)(r % 3);
		w.valid[r] = 1;
		x.valid[r] = 1;
		x.num[r] = (double)(r % 17);
		y.valid[r] = 1;
		y.num[r] = 5.0 * (double)(r % 3) + x.num[r] / 4;
	}
	struct model_spec s = { .task = XGB_REGRESSION, .split = "random", .fraction = 0.2,
				.seed = 1 };
	xgb_params_default(&s.params, XGB_REGRESSION);
	s.params.rounds = 15;
	s.params.threads = 1;
	const struct frame_column *f[2] = { &w, &x };
	struct model *m = model_train(f, 2, &y, &s, NULL, NULL, e);
	frame_column_free(&w);
	frame_column_free(&x);
	frame_column_free(&y);
	return m;
}

static void write_csv(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("id,score,city,flag\n", f);
	static const char *const cities[] = { "대구", "서울", "부산" };
	for (int i = 0; i < 30; i++) {
		if (i % 5 == 0)
			fprintf(f, "%d,,", i);                /* score NULL */
		else
			fprintf(f, "%d,%.2f,", i, i * 1.5);
		fprintf(f, "%s,%s\n", cities[i % 3], i % 2 ? "true" : "false");
	}
	fclose(f);
}

static int group_setup(void **state)
{
	(void)state;
	fx = xcalloc(1, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sheaf-test-registry.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	char url[128];
	snprintf(url, sizeof url, "file:%s/objects", fx->dir);
	struct error e = { { 0 } };
	fx->bs = blob_open(url, &e);
	if (!fx->bs) {
		print_error("blob_open(%s): %s\n", url, e.msg);
		return -1;
	}
	struct model *m = train_small(&e);
	if (!m) {
		print_error("model_train: %s\n", e.msg);
		return -1;
	}
	if (model_save(m, &fx->bytes, &fx->len, &e) < 0) {
		print_error("model_save: %s\n", e.msg);
		model_free(m);
		return -1;
	}
	fx->rows = json_pack("[{s:s, s:f}, {s:s, s:f}, {s:s}]", "weather", "맑음", "x", 3.0,
			     "weather", "눈", "x", 12.0, "weather", "비");
	fx->want = model_predict(m, fx->rows, &e);
	model_free(m);
	if (!fx->want)
		return -1;
	for (int i = 0; i < KEYS; i++) {
		snprintf(fx->key[i], sizeof fx->key[i], "models/u1/m%d.model", i);
		put_object(fx->key[i], fx->bytes, fx->len);
	}
	/* The frame_query dataset. */
	char csv[160];
	snprintf(csv, sizeof csv, "%s/in.csv", fx->dir);
	snprintf(fx->table_path, sizeof fx->table_path, "%s/d.sqlite", fx->dir);
	write_csv(csv);
	struct import_options o = { 0 };
	struct import_result r;
	if (import_file(csv, fx->table_path, &o, &r, &e) < 0) {
		print_error("import_file: %s\n", e.msg);
		return -1;
	}
	import_result_clear(&r);
	fx->t = table_open(fx->table_path, &e);
	if (!fx->t) {
		print_error("table_open: %s\n", e.msg);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (!fx)
		return 0;
	table_close(fx->t);
	blob_close(fx->bs);
	free(fx->bytes);
	json_decref(fx->rows);
	json_decref(fx->want);
	rm_rf(fx->dir);
	free(fx);
	fx = NULL;
	return 0;
}

/* m predicts what the trained model predicted. */
static void predicts_right(struct model *m)
{
	struct error e = { { 0 } };
	json_t *got = model_predict(m, fx->rows, &e);
	if (!got)
		fail_msg("model_predict: %s", e.msg);
	assert_true(json_equal(got, fx->want));
	json_decref(got);
}

static struct model *get_ok(struct model_cache *c, const char *key)
{
	struct error e = { { 0 } };
	struct model *m = model_cache_get(c, fx->bs, key, &e);
	if (!m)
		fail_msg("model_cache_get(%s): %s", key, e.msg);
	return m;
}

/* ---- the cache ------------------------------------------------------------ */

static void test_cache_loads_once(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(4);
	assert_int_equal(model_cache_loads(c), 0);
	assert_int_equal(model_cache_count(c), 0);
	struct model *a = get_ok(c, fx->key[0]);
	assert_int_equal(model_cache_loads(c), 1);
	assert_int_equal(model_cache_count(c), 1);
	predicts_right(a);
	/* Warm: the same model, nothing read. */
	struct model *b = get_ok(c, fx->key[0]);
	assert_ptr_equal(a, b);
	assert_int_equal(model_cache_loads(c), 1);
	model_cache_put(c, a);
	model_cache_put(c, b);
	/* Nobody holds it, and it stays loaded. */
	assert_int_equal(model_cache_count(c), 1);
	b = get_ok(c, fx->key[0]);
	assert_ptr_equal(a, b);
	assert_int_equal(model_cache_loads(c), 1);
	model_cache_put(c, b);
	/* Another key holding the same bytes is another model. */
	struct model *other = get_ok(c, fx->key[1]);
	assert_ptr_not_equal(other, a);
	assert_int_equal(model_cache_loads(c), 2);
	assert_int_equal(model_cache_count(c), 2);
	predicts_right(other);
	model_cache_put(c, other);
	model_cache_put(c, NULL);   /* fine */
	model_cache_free(c);
	model_cache_free(NULL);
}

static void test_cache_forget(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(4);
	struct model *held = get_ok(c, fx->key[0]);
	/* Forgotten while held: it stays usable until let go... */
	model_cache_forget(c, fx->key[0]);
	assert_int_equal(model_cache_count(c), 1);
	predicts_right(held);
	/* ...but is not handed out again: a get loads the key anew. */
	struct model *fresh = get_ok(c, fx->key[0]);
	assert_ptr_not_equal(fresh, held);
	assert_int_equal(model_cache_loads(c), 2);
	assert_int_equal(model_cache_count(c), 2);
	struct model *warm = get_ok(c, fx->key[0]);
	assert_ptr_equal(warm, fresh);
	assert_int_equal(model_cache_loads(c), 2);
	model_cache_put(c, warm);
	/* The last user of the forgotten one lets go: it is freed. */
	predicts_right(held);
	model_cache_put(c, held);
	assert_int_equal(model_cache_count(c), 1);
	predicts_right(fresh);
	model_cache_put(c, fresh);
	assert_int_equal(model_cache_count(c), 1);   /* the fresh one stays warm */

	/* Forgetting an unheld model frees it at once; the next get reloads. */
	model_cache_forget(c, fx->key[0]);
	assert_int_equal(model_cache_count(c), 0);
	struct model *again = get_ok(c, fx->key[0]);
	assert_int_equal(model_cache_loads(c), 3);
	predicts_right(again);
	model_cache_put(c, again);
	/* Forgetting what is not there, twice, or another key: nothing happens. */
	model_cache_forget(c, "models/u1/none.model");
	model_cache_forget(c, fx->key[1]);
	assert_int_equal(model_cache_count(c), 1);
	/* Putting a model the cache never gave out changes nothing. */
	struct error e = { { 0 } };
	struct model *stranger = model_load(fx->bytes, fx->len, &e);
	assert_non_null(stranger);
	model_cache_put(c, stranger);
	assert_int_equal(model_cache_count(c), 1);
	model_free(stranger);
	model_cache_free(c);
}

/* Forget twice while held, with several holders: freed only after the last. */
static void test_cache_forget_many_holders(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(2);
	struct model *h[3];
	for (int i = 0; i < 3; i++)
		h[i] = get_ok(c, fx->key[2]);
	model_cache_forget(c, fx->key[2]);
	model_cache_forget(c, fx->key[2]);
	model_cache_put(c, h[0]);
	model_cache_put(c, h[1]);
	assert_int_equal(model_cache_count(c), 1);
	predicts_right(h[2]);
	model_cache_put(c, h[2]);
	assert_int_equal(model_cache_count(c), 0);
	model_cache_free(c);
}

static void test_cache_eviction_lru(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(2);
	for (int i = 0; i < 3; i++)
		model_cache_put(c, get_ok(c, fx->key[i]));
	/* Three loaded, room for two: the least recently used (0) went. */
	assert_int_equal(model_cache_count(c), 2);
	assert_int_equal(model_cache_loads(c), 3);
	model_cache_put(c, get_ok(c, fx->key[1]));   /* warm; 1 is now the newest */
	assert_int_equal(model_cache_loads(c), 3);
	model_cache_put(c, get_ok(c, fx->key[0]));   /* loads again; 2 goes */
	assert_int_equal(model_cache_loads(c), 4);
	assert_int_equal(model_cache_count(c), 2);
	model_cache_put(c, get_ok(c, fx->key[1]));   /* still warm */
	assert_int_equal(model_cache_loads(c), 4);
	model_cache_put(c, get_ok(c, fx->key[2]));   /* was evicted */
	assert_int_equal(model_cache_loads(c), 5);
	model_cache_free(c);

	/* A limit below one is one. */
	c = model_cache_new(0);
	model_cache_put(c, get_ok(c, fx->key[0]));
	model_cache_put(c, get_ok(c, fx->key[1]));
	assert_int_equal(model_cache_count(c), 1);
	model_cache_put(c, get_ok(c, fx->key[1]));
	assert_int_equal(model_cache_loads(c), 2);
	model_cache_free(c);
}

static void test_cache_held_never_evicted(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(1);
	struct model *m[3];
	for (int i = 0; i < 3; i++)
		m[i] = get_ok(c, fx->key[i]);
	/* Over the limit, but everything is held: nothing goes. */
	assert_int_equal(model_cache_count(c), 3);
	for (int i = 0; i < 3; i++)
		predicts_right(m[i]);
	/* An unheld newcomer is the one that goes when the others are held. */
	model_cache_put(c, get_ok(c, fx->key[3]));
	assert_int_equal(model_cache_count(c), 3);
	for (int i = 0; i < 3; i++)
		predicts_right(m[i]);
	/* Let go one by one: each goes while the cache is over its limit. */
	model_cache_put(c, m[1]);
	assert_int_equal(model_cache_count(c), 2);
	predicts_right(m[0]);
	predicts_right(m[2]);
	model_cache_put(c, m[0]);
	assert_int_equal(model_cache_count(c), 1);
	predicts_right(m[2]);
	model_cache_put(c, m[2]);
	assert_int_equal(model_cache_count(c), 1);   /* within the limit: stays warm */
	uint64_t loads = model_cache_loads(c);
	model_cache_put(c, get_ok(c, fx->key[2]));
	assert_int_equal(model_cache_loads(c), loads);
	model_cache_free(c);
}

static void test_cache_pinned(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct model_cache *c = model_cache_new(1);
	struct model *builtin = model_load(fx->bytes, fx->len, &e);
	assert_non_null(builtin);
	/* Under a key with no object behind it: only the pin can answer. */
	model_cache_pin(c, "builtin/eclo", builtin);
	assert_int_equal(model_cache_count(c), 1);
	assert_int_equal(model_cache_loads(c), 0);
	struct model *got = get_ok(c, "builtin/eclo");
	assert_ptr_equal(got, builtin);
	assert_int_equal(model_cache_loads(c), 0);
	model_cache_put(c, got);
	/* Pins do not count against the limit, and are never evicted. */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < KEYS; i++)
			model_cache_put(c, get_ok(c, fx->key[i]));
	assert_int_equal(model_cache_count(c), 2);   /* the pin and the last one */
	got = get_ok(c, fx->key[KEYS - 1]);
	model_cache_put(c, got);
	got = get_ok(c, "builtin/eclo");
	assert_ptr_equal(got, builtin);
	predicts_right(got);
	/* Nor forgotten. */
	model_cache_forget(c, "builtin/eclo");
	model_cache_put(c, got);
	assert_ptr_equal(get_ok(c, "builtin/eclo"), builtin);
	model_cache_put(c, builtin);
	model_cache_put(c, builtin);   /* one put too many: still pinned */
	assert_ptr_equal(get_ok(c, "builtin/eclo"), builtin);
	model_cache_put(c, builtin);
	predicts_right(builtin);
	assert_int_equal(model_cache_loads(c), 2 * KEYS);
	/* The cache frees the pinned model (LeakSanitizer would say otherwise). */
	model_cache_free(c);
}

static void test_cache_refusals(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(4);
	struct error e = { { 0 } };
	/* Missing. */
	assert_null(model_cache_get(c, fx->bs, "models/u1/missing.model", &e));
	assert_true(e.msg[0] != '\0');
	/* Not a key. */
	memset(&e, 0, sizeof e);
	assert_null(model_cache_get(c, fx->bs, "../escape", &e));
	assert_true(e.msg[0] != '\0');
	memset(&e, 0, sizeof e);
	assert_null(model_cache_get(c, fx->bs, "", &e));
	assert_true(e.msg[0] != '\0');
	/* Not a model: text, empty, a header over bytes that are no booster,
	 * a model cut short. */
	put_object("models/u1/text.model", "hello\nworld\n", 12);
	put_object("models/u1/empty.model", "", 0);
	const char *nl = memchr(fx->bytes, '\n', fx->len);
	assert_non_null(nl);
	size_t head = (size_t)(nl + 1 - fx->bytes);
	char *bad = xmalloc(head + 8);
	memcpy(bad, fx->bytes, head);
	memcpy(bad + head, "garbage!", 8);
	put_object("models/u1/header.model", bad, head + 8);
	free(bad);
	static const char *const corrupt[] = { "models/u1/text.model", "models/u1/empty.model",
					       "models/u1/header.model" };
	for (size_t i = 0; i < 3; i++) {
		for (int attempt = 0; attempt < 2; attempt++) {   /* failures are not cached */
			memset(&e, 0, sizeof e);
			assert_null(model_cache_get(c, fx->bs, corrupt[i], &e));
			if (!e.msg[0])
				fail_msg("%s: refused without a message", corrupt[i]);
		}
	}
	assert_int_equal(model_cache_loads(c), 0);
	assert_int_equal(model_cache_count(c), 0);
	/* A key fixed meanwhile loads (objects are replaced whole). */
	put_object("models/u1/text.model", fx->bytes, fx->len);
	struct model *m = get_ok(c, "models/u1/text.model");
	predicts_right(m);
	model_cache_put(c, m);
	assert_int_equal(model_cache_loads(c), 1);
	/* Forgetting a key that failed is harmless. */
	model_cache_forget(c, "models/u1/header.model");
	model_cache_free(c);
}

/*
 * A model object cut short (a truncated upload, a torn copy): refused with
 * a message like any corrupt object.  Last in the list: when the booster
 * bytes reach XGBoost unchecked, XGBoost's UBJSON reader reads past the end
 * of its buffer and AddressSanitizer stops the whole binary here.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>

/* AddressSanitizer ends the process on its report: the scratch directory
 * goes first, as the group teardown will not run. */
static void remove_scratch(void)
{
	if (fx)
		rm_rf(fx->dir);
}
#endif

static void test_cache_truncated_model(void **state)
{
	(void)state;
#if defined(__SANITIZE_ADDRESS__)
	__asan_set_death_callback(remove_scratch);
#endif
	struct model_cache *c = model_cache_new(4);
	const char *nl = memchr(fx->bytes, '\n', fx->len);
	assert_non_null(nl);
	size_t head = (size_t)(nl + 1 - fx->bytes);
	/* Cut inside the booster at several places, the last one 100 bytes short. */
	size_t cuts[] = { head + 1, head + (fx->len - head) / 3, head + (fx->len - head) / 2,
			  fx->len - 100, fx->len - 1 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char key[64];
		snprintf(key, sizeof key, "models/u1/short%zu.model", i);
		put_object(key, fx->bytes, cuts[i]);
		struct error e = { { 0 } };
		struct model *m = model_cache_get(c, fx->bs, key, &e);
		if (m) {
			model_cache_put(c, m);
			model_cache_free(c);
			fail_msg("%s (%zu of %zu bytes) loaded", key, cuts[i], fx->len);
		}
		if (!e.msg[0])
			fail_msg("%s: refused without a message", key);
	}
	assert_int_equal(model_cache_loads(c), 0);
	model_cache_free(c);
#if defined(__SANITIZE_ADDRESS__)
	__asan_set_death_callback(NULL);
#endif
}

/* ---- many threads --------------------------------------------------------- */

#define THREADS 8

struct getter {
	struct model_cache *c;
	pthread_barrier_t *start;
	const char *key;
	struct model *got;
	int index, bad;
	struct error e;
};

static void *cold_get(void *arg)
{
	struct getter *g = arg;
	pthread_barrier_wait(g->start);
	g->got = model_cache_get(g->c, fx->bs, g->key, &g->e);
	return NULL;
}

static void test_cache_cold_race(void **state)
{
	(void)state;
	for (int round = 0; round < 5; round++) {
		struct model_cache *c = model_cache_new(4);
		pthread_t tid[THREADS];
		struct getter g[THREADS];
		pthread_barrier_t start;
		assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
		for (int i = 0; i < THREADS; i++) {
			g[i] = (struct getter){ .c = c, .start = &start, .key = fx->key[round % KEYS],
						.index = i };
			assert_int_equal(pthread_create(&tid[i], NULL, cold_get, &g[i]), 0);
		}
		for (int i = 0; i < THREADS; i++)
			pthread_join(tid[i], NULL);
		pthread_barrier_destroy(&start);
		for (int i = 0; i < THREADS; i++) {
			if (!g[i].got)
				fail_msg("thread %d: %s", i, g[i].e.msg);
			assert_ptr_equal(g[i].got, g[0].got);
		}
		assert_int_equal(model_cache_loads(c), 1);
		assert_int_equal(model_cache_count(c), 1);
		predicts_right(g[0].got);
		for (int i = 0; i < THREADS; i++)
			model_cache_put(c, g[i].got);
		model_cache_free(c);
	}
}

static void *stress(void *arg)
{
	struct getter *g = arg;
	uint64_t r = 88172645463325252ULL + (uint64_t)g->index;
	pthread_barrier_wait(g->start);
	for (int i = 0; i < 60; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		const char *key = fx->key[r % KEYS];
		struct error e = { { 0 } };
		struct model *m = model_cache_get(g->c, fx->bs, key, &e);
		if (!m) {
			if (g->bad++ == 0)
				g->e = e;
			continue;
		}
		if (i % 7 == 0) {   /* a prediction now and then, while others evict */
			json_t *got = model_predict(m, fx->rows, &e);
			if (!got || !json_equal(got, fx->want))
				g->bad++;
			json_decref(got);
		}
		if (r % 11 == 0)
			model_cache_forget(g->c, key);
		model_cache_put(g->c, m);
	}
	return NULL;
}

/* Gets, puts and forgets of many keys from many threads at once, with room
 * for two: every model handed out works, and nothing leaks. */
static void test_cache_stress(void **state)
{
	(void)state;
	struct model_cache *c = model_cache_new(2);
	pthread_t tid[THREADS];
	struct getter g[THREADS];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		g[i] = (struct getter){ .c = c, .start = &start, .index = i };
		assert_int_equal(pthread_create(&tid[i], NULL, stress, &g[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		if (g[i].bad)
			print_error("thread %d: %d failures, first: %s\n", i, g[i].bad, g[i].e.msg);
		assert_int_equal(g[i].bad, 0);
	}
	pthread_barrier_destroy(&start);
	/* Nothing held: within the limit again. */
	assert_true(model_cache_count(c) <= 2);
	model_cache_free(c);
}

/* ---- frame_query ------------------------------------------------------------ */

static const struct sql_limits lim = { .time_ms = 10000, .memory_bytes = 64 << 20,
					 .max_value_bytes = 1 << 20 };

struct result {
	struct frame_column *cols;
	size_t n;
};

static struct result query_ok(const char *sql)
{
	struct result r = { (struct frame_column *)&r, 99 };
	enum sql_status why = SQL_FAILED;
	struct error e = { { 0 } };
	if (frame_query(fx->t, sql, &lim, &r.cols, &r.n, &why, &e) != 0)
		fail_msg("frame_query(%s): %s (why %d)", sql, e.msg, (int)why);
	assert_int_equal(why, SQL_OK);
	return r;
}

static const struct frame_column *col(const struct result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->cols[i].name, name) == 0)
			return &r->cols[i];
	fail_msg("no result column %s", name);
	return NULL;
}

static const char *text_at(const struct frame_column *c, size_t row)
{
	assert_non_null(c->code);
	if (c->code[row] == FRAME_NULL)
		return NULL;
	assert_true(c->code[row] < c->ndict);
	return c->dict[c->code[row]];
}

static void test_query_data_columns(void **state)
{
	(void)state;
	/* Columns of data keep their kinds, also renamed or through a subquery. */
	struct result r = query_ok("SELECT id, score, city, flag, score AS s2 FROM "
				   "(SELECT * FROM data) ORDER BY id");
	assert_int_equal(r.n, 5);
	assert_string_equal(r.cols[0].name, "id");
	assert_string_equal(r.cols[4].name, "s2");
	const struct frame_column *id = col(&r, "id"), *score = col(&r, "score");
	const struct frame_column *city = col(&r, "city"), *flag = col(&r, "flag");
	const struct frame_column *s2 = col(&r, "s2");
	assert_int_equal(id->kind, COLUMN_INT);
	assert_int_equal(score->kind, COLUMN_REAL);
	assert_int_equal(city->kind, COLUMN_TEXT);
	assert_int_equal(flag->kind, COLUMN_BOOL);
	assert_int_equal(s2->kind, COLUMN_REAL);
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(r.cols[i].n, 30);
	static const char *const cities[] = { "대구", "서울", "부산" };
	for (int i = 0; i < 30; i++) {
		assert_true(id->valid[i]);
		assert_int_equal(id->i64[i], i);
		assert_true(id->num[i] == i);
		assert_int_equal(score->valid[i], i % 5 != 0);
		if (i % 5)
			assert_true(score->num[i] == i * 1.5);
		assert_null(score->i64);
		assert_string_equal(text_at(city, (size_t)i), cities[i % 3]);
		assert_int_equal(flag->i64[i], i % 2);
		assert_int_equal(s2->valid[i], score->valid[i]);
	}
	assert_int_equal(city->ndict, 3);
	frame_columns_free(r.cols, r.n);
	frame_columns_free(NULL, 0);
}

static void test_query_expression_kinds(void **state)
{
	(void)state;
	struct result r = query_ok(
		"SELECT id * 2 AS twice, "
		"CASE WHEN id % 3 = 0 THEN NULL ELSE id END AS some_ints, "
		"id / 4.0 AS quarter, "
		"CASE WHEN id < 10 THEN id ELSE id + 0.5 END AS ints_then_reals, "
		"CASE WHEN id < 10 THEN id + 0.5 ELSE id END AS reals_then_ints, "
		"CASE WHEN id % 2 = 0 THEN id ELSE 'odd' END AS mixed, "
		"CASE WHEN id = 29 THEN 'late' ELSE id END AS text_last, "
		"NULL AS all_null, "
		"upper(city) AS shout, "
		"score + 0 AS score_expr "
		"FROM data ORDER BY id");
	assert_int_equal(r.n, 10);
	const struct frame_column *twice = col(&r, "twice");
	assert_int_equal(twice->kind, COLUMN_INT);
	assert_non_null(twice->i64);
	for (int i = 0; i < 30; i++) {
		assert_int_equal(twice->i64[i], 2 * i);
		assert_true(twice->valid[i]);
	}
	/* Integers with NULLs: integers, the NULLs not valid. */
	const struct frame_column *some = col(&r, "some_ints");
	assert_int_equal(some->kind, COLUMN_INT);
	for (int i = 0; i < 30; i++) {
		assert_int_equal(some->valid[i], i % 3 != 0);
		if (i % 3)
			assert_int_equal(some->i64[i], i);
	}
	assert_int_equal(some->not_numbers, 0);
	const struct frame_column *q = col(&r, "quarter");
	assert_int_equal(q->kind, COLUMN_REAL);
	assert_null(q->i64);
	assert_true(q->num[5] == 1.25);
	/* Integers and reals in either order: reals. */
	const struct frame_column *itr = col(&r, "ints_then_reals");
	const struct frame_column *rti = col(&r, "reals_then_ints");
	assert_int_equal(itr->kind, COLUMN_REAL);
	assert_int_equal(rti->kind, COLUMN_REAL);
	assert_true(itr->num[3] == 3 && itr->num[20] == 20.5);
	assert_true(rti->num[3] == 3.5 && rti->num[20] == 20);
	for (int i = 0; i < 30; i++)
		assert_true(itr->valid[i] && rti->valid[i]);
	/* Numbers and text: text, numbers as their text. */
	const struct frame_column *mixed = col(&r, "mixed");
	assert_int_equal(mixed->kind, COLUMN_TEXT);
	assert_null(mixed->num);
	assert_string_equal(text_at(mixed, 0), "0");
	assert_string_equal(text_at(mixed, 1), "odd");
	assert_string_equal(text_at(mixed, 28), "28");
	assert_int_equal(mixed->ndict, 16);    /* 15 even numbers and "odd" */
	/* One text value at the very end is enough. */
	const struct frame_column *late = col(&r, "text_last");
	assert_int_equal(late->kind, COLUMN_TEXT);
	assert_string_equal(text_at(late, 7), "7");
	assert_string_equal(text_at(late, 29), "late");
	/* Nothing but NULLs: text, nothing valid. */
	const struct frame_column *none = col(&r, "all_null");
	assert_int_equal(none->kind, COLUMN_TEXT);
	assert_int_equal(none->n, 30);
	assert_int_equal(none->ndict, 0);
	for (int i = 0; i < 30; i++) {
		assert_false(none->valid[i]);
		assert_int_equal(none->code[i], FRAME_NULL);
	}
	const struct frame_column *shout = col(&r, "shout");
	assert_int_equal(shout->kind, COLUMN_TEXT);
	assert_string_equal(text_at(shout, 1), "서울");
	/* An expression over a real column with NULLs: reals. */
	const struct frame_column *se = col(&r, "score_expr");
	assert_int_equal(se->kind, COLUMN_REAL);
	assert_false(se->valid[0]);
	assert_true(se->valid[1] && se->num[1] == 1.5);
	frame_columns_free(r.cols, r.n);

	/* Only integers of a real column's values still make a real column... */
	r = query_ok("SELECT score FROM data WHERE score = 3.0 OR score IS NULL");
	assert_int_equal(r.cols[0].kind, COLUMN_REAL);
	frame_columns_free(r.cols, r.n);
	/* ...while the same values computed are integers. */
	r = query_ok("SELECT CAST(score AS INTEGER) AS s FROM data WHERE score = 3.0");
	assert_int_equal(r.cols[0].kind, COLUMN_INT);
	assert_int_equal(r.cols[0].n, 1);
	assert_int_equal(r.cols[0].i64[0], 3);
	frame_columns_free(r.cols, r.n);
}

static void test_query_empty_and_aggregates(void **state)
{
	(void)state;
	/* No rows: data columns keep their kinds, expressions are text. */
	struct result r = query_ok("SELECT id, city, id + 1 AS next FROM data WHERE 0");
	assert_int_equal(r.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(r.cols[i].n, 0);
	assert_int_equal(r.cols[0].kind, COLUMN_INT);
	assert_int_equal(r.cols[1].kind, COLUMN_TEXT);
	assert_int_equal(r.cols[2].kind, COLUMN_TEXT);
	frame_columns_free(r.cols, r.n);
	/* Aggregates by group. */
	r = query_ok("SELECT city, count(*) AS n, avg(score) AS mean, sum(id) AS total "
		     "FROM data GROUP BY city ORDER BY city");
	assert_int_equal(r.n, 4);
	assert_int_equal(col(&r, "n")->kind, COLUMN_INT);
	assert_int_equal(col(&r, "mean")->kind, COLUMN_REAL);
	assert_int_equal(col(&r, "total")->kind, COLUMN_INT);
	assert_int_equal(col(&r, "city")->n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(col(&r, "n")->i64[i], 10);
	frame_columns_free(r.cols, r.n);
	/* Many rows (past the builders' first allocations) from VALUES-like SQL. */
	r = query_ok("WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k "
		     "WHERE x < 5000) SELECT x, x % 7 AS m, 'v' || (x % 1500) AS label FROM k");
	assert_int_equal(r.cols[0].n, 5000);
	assert_int_equal(r.cols[0].kind, COLUMN_INT);
	assert_int_equal(r.cols[0].i64[4999], 5000);
	assert_int_equal(r.cols[2].ndict, 1500);
	assert_string_equal(text_at(&r.cols[2], 4999), "v500");
	frame_columns_free(r.cols, r.n);
}

/*
 * A compound select's column is a column of data only in its first arm:
 * the other arms' values must not be lost to the first arm's kind (text
 * made NULL in an integer column, a fraction in an integer column), and
 * the kind must not depend on which arm comes first.
 */
static void test_query_compound(void **state)
{
	(void)state;
	/* Text in an integer data column is what the dataset itself does with
	 * a value that kept its text: the column stays a number column and
	 * counts it in not_numbers (frame.h). */
	struct result r = query_ok("SELECT id FROM data WHERE id < 3 UNION ALL SELECT 'x'");
	assert_int_equal(r.cols[0].n, 4);
	assert_int_equal(r.cols[0].kind, COLUMN_INT);
	assert_false(r.cols[0].valid[3]);
	assert_int_equal(r.cols[0].not_numbers, 1);
	assert_true(r.cols[0].valid[2]);
	frame_columns_free(r.cols, r.n);
	int kind;
	/* The same values the other way round are text. */
	r = query_ok("SELECT 'x' AS id UNION ALL SELECT id FROM data WHERE id < 3");
	assert_int_equal(r.cols[0].kind, COLUMN_TEXT);
	assert_true(r.cols[0].valid[1]);
	frame_columns_free(r.cols, r.n);
	/* A fraction after integers of an integer column: reals. */
	r = query_ok("SELECT id FROM data WHERE id < 3 UNION ALL SELECT 2.5");
	kind = (int)r.cols[0].kind;
	double last = r.cols[0].num ? r.cols[0].num[3] : -1;
	frame_columns_free(r.cols, r.n);
	if (kind != COLUMN_REAL || last != 2.5)
		fail_msg("SELECT id FROM data ... UNION ALL SELECT 2.5: kind %d (want real %d), "
			 "last value %g", kind, (int)COLUMN_REAL, last);
}

static void test_query_refused(void **state)
{
	(void)state;
	static const struct {
		const char *sql;
		enum sql_status why;
	} bad[] = {
		{ "SELEC id FROM data", SQL_INVALID },
		{ "SELECT nope FROM data", SQL_INVALID },
		{ "SELECT id FROM nowhere", SQL_INVALID },
		{ "", SQL_INVALID },
		{ "DELETE FROM data", SQL_FORBIDDEN },
		{ "SELECT 1; SELECT 2", SQL_FORBIDDEN },
		/* Fails while running (an integer overflow), after some rows. */
		{ "SELECT CASE WHEN id < 20 THEN id ELSE abs(-9223372036854775807 - 1) END FROM data",
		  SQL_INVALID },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct frame_column *cols = (struct frame_column *)&cols;
		size_t n = 99;
		enum sql_status why = SQL_OK;
		struct error e = { { 0 } };
		if (frame_query(fx->t, bad[i].sql, &lim, &cols, &n, &why, &e) != -1)
			fail_msg("frame_query(%s) succeeded", bad[i].sql);
		if (why != bad[i].why)
			fail_msg("frame_query(%s): why %d, expected %d (%s)", bad[i].sql, (int)why,
				 (int)bad[i].why, e.msg);
		assert_null(cols);
		assert_int_equal(n, 0);
		assert_true(e.msg[0] != '\0');
	}
	/* Past the time limit (the two passes count together). */
	static const struct sql_limits quick = { .time_ms = 50, .memory_bytes = 64 << 20,
						 .max_value_bytes = 1 << 20 };
	struct frame_column *cols;
	size_t n;
	enum sql_status why;
	struct error e = { { 0 } };
	assert_int_equal(frame_query(fx->t, "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT "
					    "x + 1 FROM k) SELECT x FROM k", &quick, &cols, &n,
				     &why, &e), -1);
	assert_int_equal(why, SQL_TIMEOUT);
	assert_null(cols);
	assert_int_equal(n, 0);
}

int main(void)
{
	if (sqlmem_install() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_loads_once),
		cmocka_unit_test(test_cache_forget),
		cmocka_unit_test(test_cache_forget_many_holders),
		cmocka_unit_test(test_cache_eviction_lru),
		cmocka_unit_test(test_cache_held_never_evicted),
		cmocka_unit_test(test_cache_pinned),
		cmocka_unit_test(test_cache_refusals),
		cmocka_unit_test(test_cache_cold_race),
		cmocka_unit_test(test_cache_stress),
		cmocka_unit_test(test_query_data_columns),
		cmocka_unit_test(test_query_expression_kinds),
		cmocka_unit_test(test_query_empty_and_aggregates),
		cmocka_unit_test(test_query_compound),
		cmocka_unit_test(test_query_refused),
		cmocka_unit_test(test_cache_truncated_model),   /* last: see there */
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
