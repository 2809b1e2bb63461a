/*
 * util.h: the util module's public header. No telephony knowledge here:
 * errors, logging, memory, buffers, SIDs, time formats, crypto.
 */
#ifndef SB_UTIL_H
#define SB_UTIL_H

#include "err.h"
#include "log.h"
#include "mem.h"
#include "buf.h"
#include "sid.h"
#include "timefmt.h"
#include "crypto.h"
#include "fs.h"
#include "metrics.h"

#define sb_assert(cond)                                                     \
    do {                                                                    \
        if (!(cond)) {                                                      \
            sb_log_emit(SB_LOG_ERROR, NULL, "assertion failed: %s (%s:%d)", \
                        #cond, __FILE__, __LINE__);                         \
            abort();                                                        \
        }                                                                   \
    } while (0)

#include <stdlib.h>

#endif
