/* Route matching and path decoding; see router.h. */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

static const struct {
	unsigned bit;
	const char *name;
} method_names[] = {
	{ HTTP_GET, "GET" }, { HTTP_HEAD, "HEAD" }, { HTTP_POST, "POST" },
	{ HTTP_PUT, "PUT" }, { HTTP_PATCH, "PATCH" }, { HTTP_DELETE, "DELETE" },
	{ HTTP_OPTIONS, "OPTIONS" },
};

#define N_METHODS (sizeof method_names / sizeof method_names[0])

unsigned http_method_parse(const char *name)
{
	for (size_t i = 0; i < N_METHODS; i++)
		if (strcmp(name, method_names[i].name) == 0)
			return method_names[i].bit;
	return 0;
}

const char *http_method_name(unsigned method)
{
	for (size_t i = 0; i < N_METHODS; i++)
		if (method == method_names[i].bit)
			return method_names[i].name;
	return "?";
}

char *http_allow_list(unsigned methods, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_METHODS; i++) {
		if (!(methods & method_names[i].bit))
			continue;
		int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "",
				 method_names[i].name);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return out;
}

/*
 * Matches path against pattern.  Returns -1 when it does not fit, otherwise
 * the number of literal segments (the tie-breaker), filling params.
 */
static int fit(const char *pattern, const char *path, struct route_params *params)
{
	int literals = 0;
	params->n = 0;
	const char *p = pattern, *s = path;
	if (*p != '/' || *s != '/')
		return -1;
	while (*p && *s) {
		p++;
		s++;   /* both sit just after a '/' */
		size_t plen = strcspn(p, "/");
		size_t slen = strcspn(s, "/");
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (slen == 0 || params->n == ROUTE_PARAMS_MAX)
				return -1;
			struct route_param *rp = &params->p[params->n++];
			rp->name = p + 1;
			rp->name_len = plen - 2;
			rp->value = s;
			rp->value_len = slen;
		} else {
			if (plen != slen || memcmp(p, s, plen) != 0)
				return -1;
			literals++;
		}
		p += plen;
		s += slen;
	}
	return (*p == '\0' && *s == '\0') ? literals : -1;
}

enum router_result router_match(const struct route *routes, size_t n, unsigned method,
				const char *path, const struct route **out,
				struct route_params *params, unsigned *allowed)
{
	unsigned want = method == HTTP_HEAD ? HTTP_GET : method;
	int best = -1;
	struct route_params scratch;
	*allowed = 0;
	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		int score = fit(routes[i].pattern, path, &scratch);
		if (score < 0)
			continue;
		*allowed |= routes[i].method;
		if (routes[i].method == want && score > best) {
			best = score;
			*out = &routes[i];
			*params = scratch;
		}
	}
	if (*allowed) {
		*allowed |= HTTP_OPTIONS;
		if (*allowed & HTTP_GET)
			*allowed |= HTTP_HEAD;
	}
	if (*out)
		return ROUTE_FOUND;
	return *allowed ? ROUTE_METHOD_NOT_ALLOWED : ROUTE_NOT_FOUND;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

size_t http_unescape(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		int hi, lo;
		if (r[0] == '%' && (hi = hex_digit(r[1])) >= 0 && (lo = hex_digit(r[2])) >= 0 &&
		    (hi || lo)) {
			*w++ = (char)(hi * 16 + lo);
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}
