/* stub: being written */
typedef int jv_stub_cli_util_c;
