/*
 * server.h: the composition root. Builds every module from the config in
 * dependency order, runs the reactor until SIGINT/SIGTERM, and tears down
 * in reverse order. Kept apart from main.c so main stays the command line.
 */
#ifndef SB_SERVER_H
#define SB_SERVER_H

#include "config.h"

/* Runs the server. cfg and datadir are borrowed for the whole run.
 * Returns a process exit status: 0 after a clean shutdown, 1 when start-up
 * failed (one line on stderr says why) or shutdown was not clean. */
int sb_server_run(const sb_config_t *cfg, const char *datadir);

#endif
