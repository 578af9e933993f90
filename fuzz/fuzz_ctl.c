/* The control socket's requests without a socket: each line of the
 * input goes through jv_ctl_answer (the JSON parse and checks) to the
 * command table (jv_ctl_dispatch) of a server holding one attached
 * session, and a successful reply through `jvpn ctl`'s renderer. Every
 * reply is an object with a boolean "ok", and an "error" string when
 * false. policy-reload reads a file: here it is always a missing one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl_reply.h"
#include "fuzz/fuzz.h"
#include "io/ctl.h"

struct ctx {
	struct jv_ctl_node node;
	const struct jv_ctl_cmd *cmd;
	uint64_t now;
};

static json_t *handler(void *vctx, const char *cmd, json_t *args)
{
	struct ctx *z = vctx;
	json_t *a, *r;

	z->cmd = jv_ctl_cmd_find(cmd);
	if (!z->cmd || strcmp(z->cmd->name, "policy-reload") != 0 ||
	    json_array_size(args) != 1)
		return jv_ctl_dispatch(&z->node, cmd, args, z->now);
	a = json_pack("[s]", "/nonexistent/jvpn-fuzz/policy.yaml");
	r = jv_ctl_dispatch(&z->node, cmd, a, z->now);
	json_decref(a);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct world *w;
	static FILE *devnull;
	struct ctx z;
	size_t off = 0;

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	w = fz_world_get(FZ_START_ATTACHED);
	memset(&z, 0, sizeof(z));
	z.node.ep = w->s.ep;
	z.node.node_id = "gw-1";
	z.node.role = JV_ROLE_SERVER;
	z.now = 1000;
	for (int i = 0; i < 16 && off < size; i++) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		char *line = malloc(len ? len : 1);
		json_t *r, *ok;

		if (!line)
			abort();
		memcpy(line, data + off, len);
		off += len + 1;
		z.cmd = NULL;
		r = jv_ctl_answer(line, len, handler, &z);
		free(line);
		ok = json_object_get(r, "ok");
		if (!json_is_object(r) || !json_is_boolean(ok) ||
		    (json_is_false(ok) &&
		     !json_is_string(json_object_get(r, "error"))))
			abort();
		if (json_is_true(ok) && z.cmd && z.cmd->render)
			z.cmd->render(devnull, z.cmd, r);
		json_decref(r);
		z.now += 100;
	}
	fz_world_put(w, data, size);
	return 0;
}
