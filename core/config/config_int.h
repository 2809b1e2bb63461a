/* config_int.h: shared between the files of core/config only. */
#ifndef SB_CONFIG_INT_H
#define SB_CONFIG_INT_H

#include "config.h"
#include "buf.h"

#include <lua.h>

/* Fills values derived from others (domain, media ip, console socket). */
void sb__config_finish(sb_config_t *cfg);
/* Returns the 1-based line where section.key (or section, key NULL) is
 * assigned in src, or 1 when it cannot be found. */
int sb__config_find_line(const char *src, size_t len, const char *section,
                         const char *key);
/* Writes the table at idx as a Lua table constructor. Returns 0, or -1 with
 * a reason in why (a cycle, a function value, ...). */
int sb__config_serialize(lua_State *L, int idx, sb_buf_t *out, char *why,
                         size_t whylen);
/* Splits "HOST:PORT" / "[V6]:PORT"; 0, -1 malformed, -2 bad port, -3 host
 * not an IP literal. */
int sb__config_split_hostport(const char *s, char *host, size_t hostlen, int *port);

#endif
