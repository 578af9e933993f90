/* stub: being written */
typedef int jv_stub_core_audit_c;
