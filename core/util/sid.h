/*
 * sid.h: Restcomm-style resource identifiers. Most SIDs are a two-letter
 * prefix and 32 lowercase hex digits (34 chars). Call SIDs are formed as
 * Restcomm forms them: "<instance id>-CA<32 hex>", the instance id being
 * "ID" and 32 hex (69 chars in all).
 */
#ifndef SB_SID_H
#define SB_SID_H

#include <stddef.h>

#define SB_SID_LEN 34
#define SB_CALL_SID_LEN 69
#define SB_SID_SIZE 72   /* fits any SID and its NUL */

/* Writes prefix + 32 random hex into out (size >= SB_SID_LEN + 1). */
void sb_sid_new(const char *prefix, char *out);
/* Writes a call SID for the given instance id into out (SB_SID_SIZE). */
void sb_sid_new_call(const char *instance_id, char *out);
/* Account SIDs are AC + md5(lowercased email), as Restcomm makes them. */
void sb_sid_account(const char *email, char *out);
/* Returns 1 when s is a well-formed SID with the given prefix (NULL prefix
 * accepts any two letters; "CA" accepts the call form as well). */
int sb_sid_valid(const char *s, const char *prefix);

#endif
