#include "cli/util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/policy.h"

int jv_read_file(const char *path, size_t max, char **buf, size_t *len,
		 struct jv_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *b = NULL;
	size_t n = 0, cap = 0;
	int rc = JV_OK;

	if (!f)
		return jv_error_set(err, JV_ERR_INVAL, path, 0, "cannot open: %s",
				    strerror(errno));
	for (;;) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nb;

			if (ncap > max + 1)
				ncap = max + 1;
			if (n == ncap) {
				rc = jv_error_set(err, JV_ERR_RANGE, path, 0,
						  "file larger than %zu bytes", max);
				goto out;
			}
			nb = realloc(b, ncap + 1);
			if (!nb) {
				rc = jv_error_set(err, JV_ERR_NOMEM, path, 0,
						  "out of memory");
				goto out;
			}
			b = nb;
			cap = ncap;
		}
		size_t got = fread(b + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (ferror(f))
				rc = jv_error_set(err, JV_ERR_INVAL, path, 0,
						  "read error: %s", strerror(errno));
			break;
		}
	}
	if (rc == JV_OK && n > max)
		rc = jv_error_set(err, JV_ERR_RANGE, path, 0,
				  "file larger than %zu bytes", max);
out:
	if (f != stdin)
		fclose(f);
	if (rc != JV_OK) {
		free(b);
		return rc;
	}
	if (!b)
		b = calloc(1, 1);
	if (!b)
		return jv_error_set(err, JV_ERR_NOMEM, path, 0, "out of memory");
	b[n] = '\0';
	*buf = b;
	*len = n;
	return JV_OK;
}

int jv_policy_load(const char *path, struct jv_policy *p,
		   struct jv_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	jv_policy_defaults(p);
	rc = jv_read_file(path, JV_FILE_MAX, &buf, &len, err);
	if (rc == 0)
		rc = jv_policy_parse(p, buf, len, path, true, err);
	if (rc == 0)
		rc = jv_policy_validate(p, path, err);
	free(buf);
	return rc;
}

void jv_print_error(const struct jv_error *err)
{
	char line[1024];

	jv_error_format(err, line, sizeof(line));
	fprintf(stderr, "jvpn: %s\n", line);
}

void jv_key_to_base64(const uint8_t key[32], char out[45])
{
	sodium_bin2base64(out, 45, key, 32, sodium_base64_VARIANT_ORIGINAL);
}

int jv_key_from_base64(const char *s, uint8_t key[32])
{
	size_t n = 0;
	const char *end = NULL;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (sodium_base642bin(key, 32, s, strlen(s), " \t\r\n", &n, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 || n != 32)
		return JV_ERR_INVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	return *end ? JV_ERR_INVAL : JV_OK;
}

int jv_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}
