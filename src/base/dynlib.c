#include "base/dynlib.h"

#include <dlfcn.h>
#include <string.h>

int dynlib_load(const char *soname, const struct dynlib_sym *syms, size_t n, struct error *e)
{
	void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return error_set(e, "cannot load %s: %s", soname, dlerror());
	for (size_t i = 0; i < n; i++) {
		void *p = dlsym(lib, syms[i].name);
		if (!p)
			return error_set(e, "%s has no %s", soname, syms[i].name);
		memcpy(syms[i].slot, &p, sizeof p);
	}
	return 0;
}

int dynlib_ready(struct dynlib_lazy *l, struct error *e)
{
	int state = atomic_load_explicit(&l->state, memory_order_acquire);
	if (!state) {
		pthread_mutex_lock(&l->lock);
		state = atomic_load_explicit(&l->state, memory_order_relaxed);
		if (!state) {
			state = dynlib_load(l->soname, l->syms, l->n, &l->err) == 0 ? 1 : -1;
			atomic_store_explicit(&l->state, state, memory_order_release);
		}
		pthread_mutex_unlock(&l->lock);
	}
	if (state < 0)
		return error_set(e, "%s", l->err.msg);
	return 0;
}
