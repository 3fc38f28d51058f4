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
