/*
 * sb_lua_msg.h: the Lua side of messaging (lua_api_msg.c): the
 * primitives behind the plugin globals sms.send and email.send (module
 * "switchboard.messaging"), and the runner of SMS applications (the SMS
 * interpreter, lua/switchboard/sms.lua). Kept apart from sb_lua.h so the
 * messaging module stays optional for the rest of the runtime.
 */
#ifndef SB_LUA_MSG_H
#define SB_LUA_MSG_H

#include "msg.h"
#include "sb_lua.h"

/* Makes msg (borrowed; NULL before it closes) the module behind
 * sms.send and email.send: registers package.loaded
 * ["switchboard.messaging"] on the first call. Must not be called while
 * Lua runs. Without it (or after NULL) both return nil, "state". */
void sb_lua_use_messaging(sb_lua_t *rt, sb_msg_t *msg);

/* The messaging module's runner (sb_msg_set_runner, arg: the runtime):
 * starts a session running switchboard.sms.run(message, app), the RCML
 * interpreter limited to Sms, Email and Redirect. */
void sb_lua_sms_runner(const sb_msg_inbound_t *in, void *arg);

#endif
