/* stub: being written */
typedef int jv_stub_cli_cmd_keys_c;
