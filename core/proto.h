/* The two transport protocols. Core needs them (the policy's
 * allowed_protocols is a set of them, candidate ranking filters by it) and
 * core sits below proto/, so the names live here; proto/wire.h includes
 * this header and pins the values, because each value is also the byte a
 * transport id carries on the wire (HS_INIT, REATTACH_REQ). Each is one
 * bit, so a set of them is a bitmask and `set & proto` tests membership. */
#ifndef JV_CORE_PROTO_H
#define JV_CORE_PROTO_H

#define JV_PROTO_UDP 0x1u
#define JV_PROTO_TCP 0x2u

#endif
