/* stub: being written */
typedef int jv_stub_cli_cmd_policy_c;
