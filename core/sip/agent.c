/*
 * agent.c: the nua agent: creation on the shared su_root, the event
 * dispatcher, OPTIONS, unhandled requests and the ordered shutdown
 * (nua_shutdown, then nua_destroy once the stack reports it is done).
 *
 * After every nua event the dispatcher calls sb_loop_sync(): the event may
 * have started libuv work (an HTTP fetch, a timer) and libuv applies such
 * changes only inside uv_run.
 *
 * REGISTER is delivered to the application (NUTAG_APPL_METHOD) and handed
 * to registrar.c; the agent struct lives in sip_int.h for that reason.
 */
#include "sip_int.h"
#include "dialog_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/tport_tag.h>

/* The UDP socket's kernel buffers. The default (net.core.rmem_default,
 * often 208 KiB) holds some 100 datagrams on loopback: a stall of a few
 * tens of milliseconds at a few thousand messages per second (a WAL
 * checkpoint, a burst of new calls) overflows it, and every lost request
 * costs a 500 ms retransmission, often a failed call. sofia-sip asks with
 * SO_RCVBUFFORCE first (works as root), else SO_RCVBUF, which the kernel
 * caps at net.core.rmem_max. */
#define SB_SIP_UDP_RMEM (8u * 1024u * 1024u)
#define SB_SIP_UDP_WMEM (1u * 1024u * 1024u)

/* sip.trace: while on, sofia's transport logs every message it sends or
 * receives: a line "recv N bytes from ..." or "send N bytes to ...", then
 * the message's lines, each indented by three spaces, and a last line of
 * dashes (1.12.11 logs each piece with its own call). Those lines go to our
 * log at info level; the rest of sofia's log stays at debug. sofia's log
 * is process-wide, so the switch is too. */
static int sip_trace_on;
static int sip_trace_in_dump;

static int is_dump_start(const char *line)
{
    return (strncmp(line, "recv ", 5) == 0 || strncmp(line, "send ", 5) == 0) &&
           strstr(line, " bytes ") != NULL;
}

/* sofia-sip's own log lines go to ours, at debug level. */
static void on_sofia_log(void *stream, char const *fmt, va_list ap)
{
    (void)stream;
    if (!sip_trace_on && !SB_LOG_ENABLED(SB_LOG_DEBUG))
        return;
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    if (sip_trace_on) {
        if (is_dump_start(line)) {
            line[strcspn(line, "\n")] = '\0';  /* drop the dashes after it */
            sip_trace_in_dump = 1;
            sb_log_emit(SB_LOG_INFO, NULL, "sip: %s", line);
            return;
        }
        if (sip_trace_in_dump) {
            /* 1.12.11 logs "   " + a line's text, then its "\n" alone; a
             * line cut between two buffers comes in two parts. */
            size_t n = strlen(line);
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = '\0';
            if (strncmp(line, "   -----", 8) == 0)
                sip_trace_in_dump = 0;
            else if (n > 0)
                sb_log_emit(SB_LOG_INFO, NULL, "sip: %s", line);
            return;
        }
        if (!SB_LOG_ENABLED(SB_LOG_DEBUG))
            return;
    }
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    if (n > 0)
        sb_log_emit(SB_LOG_DEBUG, NULL, "sofia: %s", line);
}

/* nua reports a failed bind without a reason, so we try the bind first to
 * give the user one. The socket is closed at once; nua binds right after. */
static int probe_bind(const sb_listen_t *l, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    if (strchr(l->host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_addr(l->host, l->port, a);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_addr(l->host, l->port, a);
        len = sizeof *a;
    }
    int fd = socket(ss.ss_family,
                    l->transport == SB_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "sip: cannot create socket: %s", strerror(errno));
        return SB_EIO;
    }
    int one = 1;
    if (l->transport == SB_TRANSPORT_TCP)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, len);
    int e = errno;
    close(fd);
    if (rc != 0) {
        snprintf(err, errlen, "sip: cannot listen on %s:%s:%d: %s",
                 sb_config_transport_name(l->transport), l->host, l->port,
                 strerror(e));
        return SB_EIO;
    }
    return 0;
}

static void on_destroy_timer_closed(uv_handle_t *h)
{
    sb_sip_t *sip = h->data;
    sb_loop_t *loop = sip->loop;
    free(sip);
    sb_loop_closed(loop);
}

static void on_destroy_timer(uv_timer_t *t)
{
    sb_sip_t *sip = t->data;
    nua_destroy(sip->nua);
    sip->nua = NULL;
    sb__sip_legs_free(sip);
    sb__sip_byes_free(sip);
    uv_close((uv_handle_t *)&sip->destroy_timer, on_destroy_timer_closed);
}

/* The request being dispatched (metrics: the method of the responses
 * sent on its handle while it is). */
static nua_handle_t *cur_nh;
static const char *cur_method;

void sb__sip_count_response(nua_handle_t *nh, int status)
{
    if (!sb_metrics_on)
        return;
    const char *m = nh && nh == cur_nh ? cur_method : "INVITE";
    sb_metrics_sip_response(1, m, status);
}

/* Counts what an event says passed: a request received (and nua's own
 * answer to it), or a response received to a request we sent. */
static void count_event(nua_event_t event, int status, nua_handle_t *nh,
                        sip_t const *msg)
{
    if (msg == NULL)
        return;
    if (msg->sip_request) {
        const char *m = msg->sip_request->rq_method_name;
        sb_metrics_sip_request(0, m);
        cur_nh = nh;
        cur_method = m;
        /* nua answered it already (OPTIONS, BYE, CANCEL). */
        if (status >= 200 && event != nua_i_invite && event != nua_i_ack)
            sb_metrics_sip_response(1, m, status);
    } else if (msg->sip_status && msg->sip_cseq) {
        const char *m = msg->sip_cseq->cs_method_name;
        sb_metrics_sip_response(0, m, msg->sip_status->st_status);
        if (msg->sip_status->st_status >= 200)
            sb_metrics_sip_request(1, m);
    }
}

static void on_nua_event(nua_event_t event, int status, char const *phrase,
                         nua_t *nua, sb_sip_t *sip, nua_handle_t *nh,
                         nua_hmagic_t *hmagic, sip_t const *msg, tagi_t tags[])
{
    if (sb_metrics_on)
        count_event(event, status, nh, msg);
    switch (event) {
    case nua_i_options:
        /* nua has answered 200 with our Allow already. */
        sb_debug("sip: OPTIONS answered %d", status);
        nua_handle_destroy(nh);
        break;
    case nua_i_register:
        /* registrar.c answers and destroys nh. */
        sb__sip_reg_on_register(sip, nua, nh, msg);
        break;
    case nua_i_refer:
        /* In a leg's dialog: leg.c; anywhere else: 404 (refer.c). */
        if (!sb__sip_leg_event(sip, event, status, phrase, nua, nh, msg, tags))
            sb__sip_refer_out_of_dialog(sip, nua, nh, msg);
        break;
    case nua_i_message:
        /* MESSAGE outside dialogs: message.c. */
        sb__sip_on_message(sip, nua, nh, msg);
        break;
    case nua_r_message:
        if (!sb__sip_message_response(sip, nh, status, phrase))
            sb_log(SB_LOG_TRACE, "sip: stray MESSAGE answer %d", status);
        break;
    case nua_r_method:
        /* The BYEs of dialog.c are the only extension requests we send. */
        if (!sb__sip_bye_response(sip, nh, (void *)hmagic, status, phrase))
            sb_log(SB_LOG_TRACE, "sip: stray answer %d", status);
        break;
    case nua_i_error:
        sb_warn("sip: stack error %d %s", status, phrase ? phrase : "");
        break;
    case nua_r_shutdown:
        if (status >= 200) {
            sb_debug("sip: stack shut down (%d)", status);
            uv_timer_start(&sip->destroy_timer, on_destroy_timer, 0, 0);
        }
        break;
    default:
        /* INVITE dialogs and their requests: call legs (leg.c). */
        if (sb__sip_leg_event(sip, event, status, phrase, nua, nh, msg, tags))
            break;
        sb_log(SB_LOG_TRACE, "sip: event %s %d", nua_event_name(event), status);
        break;
    }
    cur_nh = NULL;
    cur_method = NULL;
    sb_loop_sync(sip->loop);
}

static void free_on_close(uv_handle_t *h)
{
    free(h->data);
}

static void on_close(void *arg)
{
    sb_sip_t *sip = arg;
    sip->shutting_down = 1;
    /* The registrar stops using the store now (it closes after us). */
    sb__sip_reg_close(sip->reg);
    sip->reg = NULL;
    sb__sip_legs_shutdown(sip);
    sb__sip_messages_shutdown(sip);
    nua_shutdown(sip->nua);
}

int sb_sip_new(sb_loop_t *loop, const sb_config_t *cfg, sb_sip_t **out,
               char *err, size_t errlen)
{
    sb_sip_t *sip = SB_NEW(sb_sip_t);
    int have_udp = 0, have_tcp = 0;
    sip->loop = loop;
    sip->cfg = cfg;

    for (int i = 0; i < cfg->sip_listen_count; i++) {
        int rc = probe_bind(&cfg->sip_listen[i], err, errlen);
        if (rc != 0) {
            free(sip);
            return rc;
        }
        if (cfg->sip_listen[i].transport == SB_TRANSPORT_UDP)
            have_udp = 1;
        else
            have_tcp = 1;
    }
    const sb_listen_t *l = &cfg->sip_listen[0];
    int v6 = strchr(l->host, ':') != NULL;
    /* Without a transport parameter a sip: URI binds both UDP and TCP. (A
     * list such as "transport=udp,tcp" crashes tport_tbind in 1.12.11.) */
    snprintf(sip->uri, sizeof sip->uri, "sip:%s%s%s:%d%s", v6 ? "[" : "", l->host,
             v6 ? "]" : "", l->port,
             have_udp && have_tcp ? "" : have_tcp ? ";transport=tcp" : ";transport=udp");

    su_log_redirect(NULL, on_sofia_log, NULL);
    uv_timer_init(sb_loop_uv(loop), &sip->destroy_timer);
    sip->destroy_timer.data = sip;

    sip->nua = nua_create(sb_loop_su_root(loop), on_nua_event, sip,
                          NUTAG_URL(sip->uri),
                          /* SIPTAG_ALLOW_STR replaces nua's default list
                           * (NUTAG_ALLOW would merge with it, allowing
                           * MESSAGE, SUBSCRIBE, REFER ...), so methods we
                           * do not handle get 405 with our Allow. */
                          SIPTAG_ALLOW_STR(SB_SIP_ALLOW),
                          NUTAG_APPL_METHOD("REGISTER"),
                          /* REFER is answered by the call module (refer.c). */
                          NUTAG_APPL_METHOD("REFER"),
                          /* MESSAGE is answered by message.c. */
                          NUTAG_APPL_METHOD("MESSAGE"),
                          NUTAG_AUTOANSWER(0),
                          NUTAG_ENABLEMESSAGE(1),
                          NUTAG_ENABLEINVITE(1),
                          /* Calls (leg.c): SDP passes through as text; the
                           * media engine writes ours. Session timers are
                           * honoured when the peer asks for them, and we
                           * refresh with UPDATE (no body to negotiate). */
                          NUTAG_MEDIA_ENABLE(0),
                          NUTAG_AUTOALERT(0),
                          SIPTAG_SUPPORTED_STR("timer"),
                          NUTAG_SESSION_TIMER(0),
                          NUTAG_MIN_SE(90),
                          NUTAG_UPDATE_REFRESH(1),
                          SIPTAG_USER_AGENT_STR("Switchboard/" SB_VERSION_STRING),
                          TPTAG_UDP_RMEM(SB_SIP_UDP_RMEM),
                          TPTAG_UDP_WMEM(SB_SIP_UDP_WMEM),
                          TAG_END());
    if (sip->nua == NULL) {
        snprintf(err, errlen, "sip: cannot start the SIP stack on %s", sip->uri);
        /* The timer is freed with sip once libuv has closed it. */
        sip->loop = loop;
        uv_close((uv_handle_t *)&sip->destroy_timer, free_on_close);
        return SB_EIO;
    }
    sip->reg = sb__sip_reg_new(sip);
    sb_loop_add_closer(loop, "sip", on_close, sip);
    sb_info("sip: listening on %s", sip->uri);
    *out = sip;
    return 0;
}

const char *sb_sip_bound_uri(sb_sip_t *sip) { return sip->uri; }

int sb_sip_trace(sb_sip_t *sip, int on)
{
    int prev = sip_trace_on;
    sip_trace_on = on != 0;
    /* The master transport switches its message log at run time. */
    nua_set_params(sip->nua, TPTAG_LOG(sip_trace_on), TAG_END());
    return prev;
}
