/* err.c: text for the codes of err.h; libuv's codes are asked of libuv. */
#include "err.h"

const char *sb_strerror(int err)
{
    switch (err) {
#define SB_ERR_MSG(name, off, msg, reason) case SB_##name: return msg;
        SB_ERRNO_MAP(SB_ERR_MSG)
#undef SB_ERR_MSG
    case 0: return "success";
    default: return uv_strerror(err);
    }
}

const char *sb_err_name(int err)
{
    switch (err) {
#define SB_ERR_NAME(name, off, msg, reason) case SB_##name: return "SB_" #name;
        SB_ERRNO_MAP(SB_ERR_NAME)
#undef SB_ERR_NAME
    case 0: return "OK";
    default: return uv_err_name(err);
    }
}

const char *sb_err_reason(int err)
{
    switch (err) {
#define SB_ERR_REASON(name, off, msg, reason) case SB_##name: return reason;
        SB_ERRNO_MAP(SB_ERR_REASON)
#undef SB_ERR_REASON
    case UV_ETIMEDOUT: return "timeout";
    case UV_ECANCELED: return "canceled";
    default: return "network";
    }
}
