/*
 * err.h: every error code of Switchboard in one X-macro table.
 *
 * Functions that can fail return 0 or a negative code. libuv's own codes
 * (UV_E*) pass through unchanged; ours sit below UV_ERRNO_MAX so the two sets
 * never collide. The table generates the enum, sb_strerror(), sb_err_name()
 * and sb_err_reason() (the lowercase reason string Lua code sees).
 */
#ifndef SB_ERR_H
#define SB_ERR_H

#include <uv.h>

/* X(name, offset, message, lua reason) */
#define SB_ERRNO_MAP(X)                                                     \
    X(EINVAL,    1, "invalid argument",              "invalid")             \
    X(ENOMEM,    2, "out of memory",                  "memory")              \
    X(ENOENT,    3, "not found",                      "not-found")           \
    X(EEXIST,    4, "already exists",                 "exists")              \
    X(EIO,       5, "input/output error",             "io")                  \
    X(ECONFIG,   6, "configuration error",            "config")              \
    X(ESTORE,    7, "database error",                 "store")               \
    X(EVERSION,  8, "database from a newer version",  "version")             \
    X(ECANCELED, 9, "canceled",                       "canceled")            \
    X(ETIMEDOUT,10, "timed out",                      "timeout")             \
    X(EHANGUP,  11, "call ended",                     "hangup")              \
    X(EBUSY,    12, "busy",                           "busy")                \
    X(ENOANSWER,13, "no answer",                      "no-answer")           \
    X(EREJECTED,14, "rejected",                       "rejected")            \
    X(EMEDIA,   15, "media failure",                  "media")               \
    X(ENETWORK, 16, "network failure",                "network")             \
    X(ERCML,    17, "invalid RCML",                   "invalid-rcml")        \
    X(ETOOBIG,  18, "too large",                      "too-big")             \
    X(EPERM,    19, "not permitted",                  "forbidden")           \
    X(ESTATE,   20, "wrong state",                    "state")               \
    X(ELIMIT,   21, "limit reached",                  "limit")               \
    X(ESYNTAX,  22, "syntax error",                   "syntax")              \
    X(ECODEC,   23, "no common codec",                "codec")               \
    X(ESCRIPT,  24, "script error",                   "script")              \
    X(EFORMAT,  25, "not audio, or corrupt audio",    "format")              \
    X(EINTERRUPTED, 26, "interrupted by the caller's input", "interrupted")

#define SB_ERR_BASE (UV_ERRNO_MAX - 1000)

typedef enum {
#define SB_ERR_ENUM(name, off, msg, reason) SB_##name = SB_ERR_BASE - (off),
    SB_ERRNO_MAP(SB_ERR_ENUM)
#undef SB_ERR_ENUM
    SB_ERR_LAST_ = SB_ERR_BASE - 1000
} sb_err_t;

/* Returns borrowed (static) text for any code, ours or libuv's. */
const char *sb_strerror(int err);
/* Returns borrowed (static) "SB_EINVAL", "UV_EADDRINUSE", ... */
const char *sb_err_name(int err);
/* Returns borrowed (static) lowercase reason for Lua: "timeout", "hangup". */
const char *sb_err_reason(int err);

#endif
