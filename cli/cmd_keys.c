/* jvpn genkey / jvpn pubkey: WireGuard-compatible X25519 keys in base64. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmds.h"
#include "cli/util.h"

static void genkey_help(FILE *f)
{
	fprintf(f, "Prints a new random X25519 private key in base64 (as `wg genkey`).\n");
}

static void pubkey_help(FILE *f)
{
	fprintf(f, "Reads a base64 private key on stdin and prints its public key.\n");
}

static const struct jv_cmd_spec genkey_spec = {
	"genkey", "usage: jvpn genkey\n", genkey_help, 0, 0,
};
static const struct jv_cmd_spec pubkey_spec = {
	"pubkey", "usage: jvpn pubkey < PRIVATE_KEY\n", pubkey_help, 0, 0,
};

int jv_cmd_genkey(int argc, char **argv)
{
	uint8_t k[32];
	char b64[45];
	int first, rc;

	if ((rc = jv_args_parse(&genkey_spec, NULL, argc, argv, &first)) !=
	    JV_ARGS_RUN)
		return rc;
	if (sodium_init() < 0) {
		fprintf(stderr, "jvpn: cannot initialise libsodium\n");
		return 1;
	}
	randombytes_buf(k, sizeof(k));
	/* clamped as Curve25519 private keys are (RFC 7748 section 5) */
	k[0] &= 248;
	k[31] &= 127;
	k[31] |= 64;
	jv_key_to_base64(k, b64);
	printf("%s\n", b64);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(b64, sizeof(b64));
	return 0;
}

int jv_cmd_pubkey(int argc, char **argv)
{
	struct jv_error err;
	uint8_t k[32], pub[32];
	char b64[45], *buf = NULL;
	size_t len = 0;
	int first, rc;

	if ((rc = jv_args_parse(&pubkey_spec, NULL, argc, argv, &first)) !=
	    JV_ARGS_RUN)
		return rc;
	rc = 0;
	if (sodium_init() < 0)
		return 1;
	if (jv_read_file("-", 1024, &buf, &len, &err) != 0) {
		jv_print_error(&err);
		return 2;
	}
	if (jv_key_from_base64(buf, k) != 0) {
		fprintf(stderr, "jvpn: stdin: not a base64 X25519 key (44 characters)\n");
		rc = 2;
		goto out;
	}
	crypto_scalarmult_base(pub, k);
	jv_key_to_base64(pub, b64);
	printf("%s\n", b64);
out:
	sodium_memzero(k, sizeof(k));
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}
