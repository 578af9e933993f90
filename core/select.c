/* stub: being written */
typedef int jv_stub_core_select_c;
