/*
 * version.c: Restcomm's Version resource, GET Accounts/{AC}/Version
 * (issue 21): the server's name, version, source revision and build date
 * for any signed-in account that may see {AC}. Restcomm writes Name,
 * Version, Revision and Date straight inside <RestcommResponse> and the
 * same PascalCase members in JSON; Twilio's dialect (which has no such
 * resource) gets them in its snake_case. The revision and date are the
 * commit and day the build was configured (core/api/CMakeLists.txt),
 * "unknown" outside a git checkout.
 */
#include "api_int.h"

#ifndef SB_REVISION
#define SB_REVISION "unknown"
#endif
#ifndef SB_BUILD_DATE
#define SB_BUILD_DATE "unknown"
#endif
#ifndef SB_VERSION_STRING
#define SB_VERSION_STRING "0"
#endif

void sb__api_version(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    int tw = ctx->json == SB__API_JSON_TWILIO;
    static const char *const xml[] = {"Name", "Version", "Revision", "Date"};
    static const char *const twilio[] = {"name", "version", "revision", "date"};
    const char *vals[] = {"Switchboard", SB_VERSION_STRING, SB_REVISION, SB_BUILD_DATE};
    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    sb__api_w_doc_begin(&w);
    if (w.json)
        sb__api_w_obj_begin(&w, NULL, NULL);
    for (size_t i = 0; i < SB_COUNTOF(xml); i++)
        sb__api_w_str(&w, xml[i], tw ? twilio[i] : xml[i], vals[i], 0);
    if (w.json)
        sb__api_w_obj_end(&w, NULL);
    sb__api_w_doc_end(&w);
    sb__api_send_doc(ctx, &w);
}
