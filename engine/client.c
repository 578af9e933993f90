/* stub: being written */
typedef int jv_stub_engine_client_c;
