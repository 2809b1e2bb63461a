/*
 * con_int.h: what the files of core/console share and nothing outside
 * sees: the framing of the wire protocol (proto.c), the server and
 * connection structs (server.c), the Lua host module (host.c) and the
 * rows a hook fills (rows.c).
 */
#ifndef SB_CON_INT_H
#define SB_CON_INT_H

#include <jansson.h>

#include "console.h"
#include "util.h"

/* ---- framing (proto.c) --------------------------------------------------- */

/* Appends msg as one frame (length + compact JSON) to out. Borrows msg.
 * Returns 0, or SB_ETOOBIG when the JSON exceeds max bytes (nothing
 * appended). */
int sb__con_frame_put(sb_buf_t *out, const json_t *msg, size_t max);

/* Takes the first complete frame off the front of in. Returns 1 and *out
 * (owned: json_decref) when one was there, 0 when more bytes are needed,
 * SB_ETOOBIG when the announced length exceeds max, SB_EINVAL when the
 * frame is not a JSON object (the frame is consumed). */
int sb__con_frame_take(sb_buf_t *in, size_t max, json_t **out);

/* Returns owned copy of len bytes that is valid UTF-8: each byte that does
 * not start a well-formed sequence becomes U+FFFD. *outlen gets the
 * length. */
char *sb__con_utf8_clean(const char *s, size_t len, size_t *outlen);

/* A JSON string from len bytes of any content (cleaned as above). */
json_t *sb__con_json_text(const char *s, size_t len);

/* ---- rows (rows.c) ------------------------------------------------------- */

typedef struct sb__con_field_s {
    int col;                    /* index into rows->cols */
    int is_int;
    int64_t i;
    char *s;                    /* owned */
} sb__con_field_t;

typedef struct sb__con_row_s {
    sb__con_field_t *fields;
    int n, cap;
} sb__con_row_t;

/* Owner: the Lua userdata that holds it while a hook runs (freed by its
 * __gc, so a Lua error cannot leak it), or the caller in tests. */
struct sb_con_rows_s {
    char **cols;                /* owned names, in order of appearance */
    int ncols, capcols;
    sb__con_row_t *rows;
    int nrows, caprows;
};

void sb__con_rows_clear(sb_con_rows_t *r);

/* ---- server (server.c) --------------------------------------------------- */

typedef struct sb__con_conn_s sb__con_conn_t;

/* The connection with this id, or NULL (gone, or closing). */
sb__con_conn_t *sb__con_find(sb_con_t *con, uint64_t id);

/* Sends {"op":"output","id":..,"stream":..,"text":..} for the eval that
 * runs now on c. Output beyond the write backlog limit is dropped (and
 * said so in the result). */
void sb__con_output(sb__con_conn_t *c, const char *stream, const char *text,
                    size_t len);

/* What stats() reports, gathered by the server. */
typedef struct sb__con_stats_s {
    int64_t uptime_ms;
    size_t lua_memory;
    size_t rss;
    int consoles;
    int have_calls;
    int64_t calls_active, calls_total;
    double calls_per_second;
    int have_registered;
    int64_t registered_users, registered_contacts;
} sb__con_stats_t;

void sb__con_stats(sb_con_t *con, sb__con_stats_t *out);

/* The hooks the server was given (never NULL; fields may be). */
const sb_con_hooks_t *sb__con_hooks(sb_con_t *con);

/* ---- host module (host.c) ------------------------------------------------ */

/* Registers package.loaded["switchboard.console.host"] on L (the main
 * state, Lua not running) bound to con. Returns the box that binds them:
 * sb__con_host_unbind makes every host function a no-op / error once the
 * console is gone. */
typedef struct sb__con_box_s {
    sb_con_t *con;              /* NULL once the console closed */
} sb__con_box_t;

sb__con_box_t *sb__con_host_register(lua_State *L, sb_con_t *con);

#endif
