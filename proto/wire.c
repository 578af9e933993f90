/* stub: being written */
typedef int jv_stub_proto_wire_c;
