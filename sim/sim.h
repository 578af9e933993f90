/* `jvpn sim`: a real client and a real server endpoint over simulated
 * paths on a virtual clock (CONTRACT section 7). Same scenario, same seed:
 * byte-identical events. */
#ifndef JV_SIM_H
#define JV_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/policy.h"
#include "proto/wire.h"

#define JV_SIM_MAX_PATHS 8
#define JV_SIM_MAX_FAULTS 128
#define JV_SIM_MAX_MATCH 64
#define JV_SIM_MAX_KV 12

enum jv_sim_action {
	JV_SIM_DOWN, JV_SIM_UP, JV_SIM_LOSS, JV_SIM_LATENCY, JV_SIM_FLAP,
	JV_SIM_OPERATOR_TERMINATE, JV_SIM_REPLAY, JV_SIM_FORGE,
	JV_SIM_LINK_DOWN, JV_SIM_LINK_UP, JV_SIM_DROP, JV_SIM_RELAY,
};

/* The message a replay, forge, drop or relay fault is about. */
enum jv_sim_msg { JV_SIM_MSG_REATTACH, JV_SIM_MSG_REATTACH_ACK,
		  JV_SIM_MSG_HS_RESP };

enum jv_sim_dir { JV_SIM_BOTH, JV_SIM_UPSTREAM, JV_SIM_DOWNSTREAM };

struct jv_sim_path_cfg {
	char id[JV_TID_MAX + 1];
	uint8_t proto;
	uint32_t latency_ms;
	double loss;
};

struct jv_sim_fault {
	uint64_t at_ms;
	enum jv_sim_action action;
	int path;                  /* index, -1 = none given */
	enum jv_sim_dir dir;
	double ratio;
	uint32_t ms;
	uint64_t period_ms, until_ms;
	int node;                  /* 0 client, 1 server */
	enum jv_sim_msg message;
	uint32_t count;            /* drop: how many */
	int via;                   /* relay: path index the attacker uses */
	int line;
};

/* A matcher: every key named must equal (as text) the event's field. */
struct jv_sim_matcher {
	uint32_t n;
	char key[JV_SIM_MAX_KV][40];
	char val[JV_SIM_MAX_KV][72];
	uint64_t after_ms, before_ms;   /* ts_ms window; 0 / UINT64_MAX = open */
	int line;
};

struct jv_sim_count {
	struct jv_sim_matcher m;
	int64_t min, max;          /* -1 = unbounded */
};

struct jv_scenario {
	char file[256];
	char name[128];
	uint64_t seed;
	uint64_t duration_ms;
	struct jv_policy client_policy, server_policy;
	struct jv_sim_path_cfg paths[JV_SIM_MAX_PATHS];
	uint32_t npaths;
	uint32_t rate_pps;
	int traffic_one_way;       /* 0 both ways, 1 up only, 2 down only */
	bool reconnect;            /* on_terminated: reconnect (default exit) */
	struct jv_sim_fault faults[JV_SIM_MAX_FAULTS];
	uint32_t nfaults;
	/* expect */
	struct jv_sim_matcher sequence[JV_SIM_MAX_MATCH];
	uint32_t nsequence;
	struct jv_sim_matcher absent[JV_SIM_MAX_MATCH];
	uint32_t nabsent;
	struct jv_sim_count counts[JV_SIM_MAX_MATCH];
	uint32_t ncounts;
	int final_client, final_server;   /* enum jv_state, -1 = unchecked */
	int same_session;                 /* -1 unchecked, 0 false, 1 true */
	double min_delivery;              /* inner packets delivered / sent, each way; <0 unchecked */
};

/* Sorts sc's faults by time, stably: same-time faults keep their order
 * (the order of the file, as the parser applies them). */
void jv_scenario_sort_faults(struct jv_scenario *sc);
/* Parses one scenario file held in buf. */
int jv_scenario_parse(struct jv_scenario *sc, const char *buf, size_t len,
		      const char *file, struct jv_error *err);

struct jv_sim_result {
	char **lines;              /* merged JSONL events, in emission order */
	size_t nlines, cap;
	bool pass;
	char why[512];
	uint64_t sent[2], delivered[2];    /* inner packets: [0] up, [1] down */
};

/* Runs the scenario and checks its expectations into res. Returns 0, or a
 * negative error if the scenario could not run at all (res->why says). */
int jv_sim_run(const struct jv_scenario *sc, struct jv_sim_result *res);
void jv_sim_result_free(struct jv_sim_result *res);

/* Checks the expect block against res->lines (sets pass and why). */
void jv_sim_check(const struct jv_scenario *sc, struct jv_sim_result *res,
		  int final_client, int final_server);

#endif
