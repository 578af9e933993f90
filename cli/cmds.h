/* Subcommands. Each takes argv with argv[0] = the subcommand's name and
 * returns the process exit code: 0 ok, 1 failed check, 2 bad usage/input. */
#ifndef JV_CLI_CMDS_H
#define JV_CLI_CMDS_H

int jv_cmd_genkey(int argc, char **argv);
int jv_cmd_pubkey(int argc, char **argv);
int jv_cmd_policy(int argc, char **argv);   /* "policy check FILE" */
int jv_cmd_sim(int argc, char **argv);
int jv_cmd_audit(int argc, char **argv);    /* "audit verify FILE..." */
int jv_cmd_ctl(int argc, char **argv);      /* "ctl -s SOCKET CMD ..." */

#endif
