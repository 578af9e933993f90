/* stub: being written */
typedef int jv_stub_sim_expect_c;
