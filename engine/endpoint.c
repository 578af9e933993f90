/* stub: being written */
typedef int jv_stub_engine_endpoint_c;
