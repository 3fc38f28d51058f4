/*
 * What an account's email address and display name may be.
 */
#ifndef SHEAF_AUTH_IDENTITY_H
#define SHEAF_AUTH_IDENTITY_H

#include "base/error.h"
#include "store/store.h"

#define USER_NAME_MAX_CHARS 100

/*
 * Normalises an email address into out: surrounding white space removed,
 * ASCII letters lower-cased (so Kim@Example.COM and kim@example.com are one
 * account).  It must be local@domain with a 1-64 byte local part of
 * printable characters or UTF-8 (no spaces, quotes or brackets), a domain
 * of dot-separated labels of letters, digits, hyphens or UTF-8 with at
 * least one dot, and at most EMAIL_MAX bytes in all.  Returns 0, or -1 with
 * a sentence for the user in e.
 */
int email_normalise(const char *in, char out[EMAIL_MAX + 1], struct error *e);

/* Trims white space from a display name into out: at most
 * USER_NAME_MAX_CHARS characters, no control characters.  0 or -1 with e. */
int user_name_clean(const char *in, char out[USER_NAME_MAX + 1], struct error *e);

#endif
