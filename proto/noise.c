/* stub: being written */
typedef int jv_stub_proto_noise_c;
