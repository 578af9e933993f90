/* stub: being written */
typedef int jv_stub_cli_cmd_audit_c;
