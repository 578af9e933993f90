/* The daemon configuration from a buffer (jv_config_parse). A config it
 * accepts holds a policy that validates and makes an endpoint
 * configuration; a refusal names the file and a line. */
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jv_config cfg;
	static struct jv_endpoint_cfg ecfg;
	struct jv_error err;

	memset(&err, 0, sizeof(err));
	if (jv_config_parse(&cfg, (const char *)data, size,
			    "/etc/jvpn/fuzz.yaml", &err) != 0) {
		if (strnlen(err.msg, sizeof(err.msg)) == sizeof(err.msg) ||
		    err.msg[0] == '\0' || err.line < 0)
			abort();
		return 0;
	}
	if (jv_policy_validate(&cfg.policy, cfg.file, &err) != 0)
		abort();
	jv_config_endpoint(&cfg, &ecfg);
	if (ecfg.role != cfg.role)
		abort();
	jv_config_wipe(&cfg);
	return 0;
}
