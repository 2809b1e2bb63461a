/*
 * account_tree.h: the account hierarchy as the REST API needs it:
 * ancestry checks for isolation (an account sees itself and its
 * descendants), the depth limit for sub-accounts, status changes that
 * apply to a whole sub-tree, and password changes that rotate the token.
 * Part of the store module (implementation in account_tree.c).
 */
#ifndef SB_STORE_ACCOUNT_TREE_H
#define SB_STORE_ACCOUNT_TREE_H

#include <stdint.h>

#include "store.h"

/* Returns 1 when sid is ancestor itself or one of its descendants, 0 when
 * not (or when sid does not exist), SB_ESTORE on error. */
int sb_store_account_in_tree(sb_store_t *store, const char *ancestor,
                             const char *sid);

/* *depth gets the number of ancestors of sid (0 for a top-level
 * account). Returns 0, SB_ENOENT or SB_ESTORE. */
int sb_store_account_depth(sb_store_t *store, const char *sid, int *depth);

/* Sets status on sid and every descendant that is not closed (closed is
 * final), with date_updated = now. When status is "closed", the clients,
 * applications and incoming phone numbers of those accounts are deleted
 * in the same transaction. *changed (may be NULL) gets the number of
 * accounts changed. Returns 0 or SB_ESTORE. */
int sb_store_account_set_status_tree(sb_store_t *store, const char *sid,
                                     const char *status, int64_t now,
                                     int64_t *changed);

/* Replaces the password hash and the auth token of sid (both borrowed)
 * and makes an "uninitialized" account "active". Returns 0, SB_ENOENT or
 * SB_ESTORE. */
int sb_store_account_set_password(sb_store_t *store, const char *sid,
                                  const char *password_hash,
                                  const char *auth_token, int64_t now);

#endif
