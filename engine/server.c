/* stub: being written */
typedef int jv_stub_engine_server_c;
