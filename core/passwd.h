/*
 * passwd.h: `switchboard passwd EMAIL`, setting an account's password in
 * the configured database, whether the server is stopped or running.
 */
#ifndef SB_PASSWD_H
#define SB_PASSWD_H

#include "config.h"

/* Reads the new password (a prompt without echo, asked twice, when stdin
 * is a terminal; else the first line of stdin) and sets it on the account
 * whose e-mail or SID is key, in cfg's database, which must exist. Run as
 * root, it acts as the database file's owner so the files SQLite creates
 * beside it stay the server's. cfg and key are borrowed. Returns a process
 * exit status: 0 done, 1 failure (one line on stderr says why). */
int sb_passwd_run(const sb_config_t *cfg, const char *key);

#endif
