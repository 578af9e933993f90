/* stub: being written */
typedef int jv_stub_proto_keys_c;
