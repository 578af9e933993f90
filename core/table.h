/* The server's session table: bounded capacity, O(1) lookup by 32-bit
 * receiver index and by 128-bit session_id, and a hashed timer wheel so that
 * deadline expiry costs O(1) per session per tick. Entries are opaque user
 * pointers; the table owns no session memory. */
#ifndef JV_TABLE_H
#define JV_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct jv_table;

/* capacity: maximum live entries (1 .. 1<<20). rand_u32 supplies the random
 * high bits of each index (injected for deterministic simulation). */
int jv_table_new(struct jv_table **out, uint32_t capacity,
		 uint32_t (*rand_u32)(void *ctx), void *rand_ctx);
void jv_table_free(struct jv_table *t);

/* Inserts a session; returns 0 and its new unique receiver index in *index,
 * JV_ERR_FULL, or JV_ERR_INVAL if session_id is already present. */
int jv_table_insert(struct jv_table *t, const uint8_t session_id[16],
		    void *user, uint32_t *index);
/* Removes by index (also cancels its timer). */
void jv_table_remove(struct jv_table *t, uint32_t index);
void *jv_table_by_index(const struct jv_table *t, uint32_t index);
void *jv_table_by_id(const struct jv_table *t, const uint8_t session_id[16]);
uint32_t jv_table_count(const struct jv_table *t);

/* Iterates live entries in index-slot order; cursor starts at 0.
 * Returns NULL at the end. */
void *jv_table_next(const struct jv_table *t, uint32_t *cursor);

/* Timer: one deadline per entry (the engine keeps it at the min of that
 * session's timers). Setting replaces the previous one; UINT64_MAX cancels. */
void jv_table_set_deadline(struct jv_table *t, uint32_t index, uint64_t at_ms);
/* Earliest time at which jv_table_expire may return something (it may be
 * early, never late); UINT64_MAX if no timer is set. */
uint64_t jv_table_next_deadline(const struct jv_table *t);
/* Pops one entry whose deadline is <= now (its timer is cleared), or NULL.
 * Call repeatedly until NULL. The order among entries due is deterministic
 * (same inserts and deadlines, same order). */
void *jv_table_expire(struct jv_table *t, uint64_t now, uint32_t *index);

#endif
