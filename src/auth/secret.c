/*
 * The signing key file and refresh tokens; see secret.h.
 *
 * Refresh tokens carry 256 random bits, so a plain SHA-256 is enough to
 * store them: there is nothing to brute-force, unlike a password.
 */
#include "auth/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/fsutil.h"
#include "base/id.h"

#define HEX_LEN (SIGNING_KEY_BYTES * 2)

static int read_key(const char *path, unsigned char *key, const char **note, struct error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_set(e, "cannot open %s: %s", path, strerror(errno));
	char text[HEX_LEN + 3];
	ssize_t n = read(fd, text, sizeof text - 1);
	struct stat st;
	if (fstat(fd, &st) == 0 && (st.st_mode & 077))
		*note = "the signing key file is readable by other users; chmod 600 it";
	close(fd);
	if (n < 0)
		return error_set(e, "cannot read %s: %s", path, strerror(errno));
	text[n] = '\0';
	size_t len = strcspn(text, "\r\n");
	size_t bin_len;
	if (len != HEX_LEN ||
	    sodium_hex2bin(key, SIGNING_KEY_BYTES, text, len, NULL, &bin_len, NULL) != 0 ||
	    bin_len != SIGNING_KEY_BYTES)
		return error_set(e, "%s does not hold a signing key (%d hex digits); remove it to "
				    "make a new one (access tokens already issued stop working; "
				    "clients get new ones with their refresh tokens)",
				 path, HEX_LEN);
	return 0;
}

/* Writes a fresh key under a temporary name, then links it into place:
 * link() fails if another process got there first, and then we read theirs. */
static int make_key(const char *path, unsigned char *key, struct error *e)
{
	char tmp[4096], text[HEX_LEN + 2], rnd[ID_CHARS(9)];
	id_random(rnd, 9);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.%s.tmp", path, rnd) >= sizeof tmp)
		return error_set(e, "data dir path too long");
	randombytes_buf(key, SIGNING_KEY_BYTES);
	sodium_bin2hex(text, sizeof text, key, SIGNING_KEY_BYTES);
	text[HEX_LEN] = '\n';
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(e, "cannot create %s: %s", tmp, strerror(errno));
	int rc = write(fd, text, HEX_LEN + 1) == HEX_LEN + 1 && fsync(fd) == 0 ? 0 : -1;
	if (rc)
		error_set(e, "cannot write %s: %s", tmp, strerror(errno));
	close(fd);
	if (rc == 0 && link(tmp, path) != 0) {
		rc = errno == EEXIST ? 1 : error_set(e, "cannot create %s: %s", path,
						      strerror(errno));
	}
	unlink(tmp);
	if (rc == 0)
		fs_sync_parent(path);
	return rc;
}

int signing_key_load(const char *configured, const char *data_dir, unsigned char **key,
		     size_t *len, const char **note, struct error *e)
{
	*note = NULL;
	*key = NULL;
	if (configured && *configured) {
		*len = strlen(configured);
		*key = (unsigned char *)xstrdup(configured);
		return 0;
	}
	char path[4096];
	if ((size_t)snprintf(path, sizeof path, "%s/%s", data_dir, SIGNING_KEY_FILE) >= sizeof path)
		return error_set(e, "data dir path too long");
	*key = xmalloc(SIGNING_KEY_BYTES);
	*len = SIGNING_KEY_BYTES;
	int rc = 0;
	if (access(path, F_OK) != 0) {
		rc = make_key(path, *key, e);
		if (rc == 0)
			*note = "made a new token signing key in the data dir (" SIGNING_KEY_FILE ")";
	}
	if (rc > 0 || (rc == 0 && !*note))
		rc = read_key(path, *key, note, e);
	if (rc) {
		sodium_memzero(*key, SIGNING_KEY_BYTES);
		free(*key);
		*key = NULL;
		return -1;
	}
	return 0;
}

void refresh_token_new(char out[REFRESH_TOKEN_CHARS + 1])
{
	id_random(out, 32);
}

bool refresh_token_valid(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
	return n == REFRESH_TOKEN_CHARS && s[n] == '\0';
}

void refresh_token_hash(const char *token, char out[REFRESH_HASH_CHARS + 1])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, REFRESH_HASH_CHARS + 1, digest, sizeof digest);
}
