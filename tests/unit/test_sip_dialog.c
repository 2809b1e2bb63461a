/* test_sip_dialog.c: sb_sip_dialog_bye, the BYE a restarted server sends
 * in a dialog its dead predecessor carried (issue 23). Bad descriptions
 * are refused (no Call-ID, a party without its tag, a target that is not
 * SIP, a bad next hop); a good one goes out on the real agent to a UDP
 * peer on the same reactor, which checks what a far end needs to match
 * the dialog (Request-URI = the remote target, Call-ID, both tags, the
 * route set in order, a CSeq above any the dialog used, a Reason), sent
 * to the first route when no next hop is stored, and answers 200, after
 * which the agent holds nothing for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "sip_int.h"
#include "loop.h"
#include "config.h"

typedef struct {
    sb_loop_t *loop;
    sb_sip_t *sip;
    uv_udp_t udp;
    uv_timer_t timer;
    int peer_port;
    int got;                    /* BYEs received */
    int ticks;                  /* of timer, every 20 ms */
    char first[4096];           /* the first BYE, whole */
    char second[4096];
    int failed;
    char why[256];
} fx_t;

static void fx_fail(fx_t *f, const char *why)
{
    if (!f->failed) {
        f->failed = 1;
        snprintf(f->why, sizeof f->why, "%s", why);
    }
    sb_loop_stop(f->loop);
}

typedef struct {
    uv_udp_send_t req;
    char data[4096];
} send_t;

static void on_sent(uv_udp_send_t *req, int status)
{
    (void)status;
    free(req->data);
}

/* Copies the header line starting with name (e.g. "Via:") into b. */
static void copy_header(sb_buf_t *b, const char *msg, const char *name)
{
    for (const char *p = msg; p && *p; p = strstr(p, "\r\n") ? strstr(p, "\r\n") + 2 : NULL) {
        if (strncmp(p, name, strlen(name)) == 0) {
            const char *e = strstr(p, "\r\n");
            sb_buf_printf(b, "%.*s\r\n", (int)(e - p), p);
        }
    }
}

static void answer_200(fx_t *f, const char *msg, const struct sockaddr *to)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, "SIP/2.0 200 OK\r\n");
    copy_header(&b, msg, "Via:");
    copy_header(&b, msg, "From:");
    copy_header(&b, msg, "To:");
    copy_header(&b, msg, "Call-ID:");
    copy_header(&b, msg, "CSeq:");
    sb_buf_puts(&b, "Content-Length: 0\r\n\r\n");
    send_t *s = malloc(sizeof *s);
    snprintf(s->data, sizeof s->data, "%s", sb_buf_str(&b));
    uv_buf_t ub = uv_buf_init(s->data, (unsigned)strlen(s->data));
    s->req.data = s;
    if (uv_udp_send(&s->req, &f->udp, &ub, 1, to, on_sent) != 0) {
        free(s);
        fx_fail(f, "udp send");
    }
    sb_buf_free(&b);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    static char mem[8192];
    *buf = uv_buf_init(mem, sizeof mem);
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
    (void)flags;
    fx_t *f = u->data;
    if (nread <= 0 || nread >= 4096)
        return;
    char msg[4096];
    memcpy(msg, buf->base, (size_t)nread);
    msg[nread] = '\0';
    if (strncmp(msg, "BYE ", 4) != 0) {
        fx_fail(f, "expected a BYE");
        return;
    }
    /* Retransmissions of one we answered are answered again. */
    char *slot = strstr(msg, "Call-ID: dead-1@") ? f->first : f->second;
    if (*slot == '\0') {
        snprintf(slot, 4096, "%s", msg);
        f->got++;
    }
    answer_200(f, msg, addr);
}

/* Stops once both BYEs were answered and the agent let go of them, or
 * after 10 s. */
static void on_poll(uv_timer_t *t)
{
    fx_t *f = t->data;
    if (f->got == 2 && f->sip->byes == NULL)
        sb_loop_stop(f->loop);
    else if (++f->ticks > 500)
        fx_fail(f, "deadline passed");
}

static void on_closed(uv_handle_t *h)
{
    fx_t *f = h->data;
    if (h == (uv_handle_t *)&f->timer)
        sb_loop_closed(f->loop);
}

static void close_fx(void *arg)
{
    fx_t *f = arg;
    uv_close((uv_handle_t *)&f->udp, on_closed);
    uv_close((uv_handle_t *)&f->timer, on_closed);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_sip_dialog_bye(void **state)
{
    (void)state;
    fx_t f = {0};
    char err[256];
    sb_config_t cfg;
    sb_config_defaults(&cfg, NULL);
    int sip_port = free_port();
    cfg.sip_listen[0] = (sb_listen_t){SB_TRANSPORT_UDP, "127.0.0.1", sip_port};
    cfg.sip_listen_count = 1;
    assert_int_equal(sb_loop_new(&f.loop), 0);
    uv_loop_t *uv = sb_loop_uv(f.loop);
    uv_udp_init(uv, &f.udp);
    uv_timer_init(uv, &f.timer);
    f.udp.data = f.timer.data = &f;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_bind(&f.udp, (const struct sockaddr *)&a, 0), 0);
    int alen = sizeof a;
    uv_udp_getsockname(&f.udp, (struct sockaddr *)&a, &alen);
    f.peer_port = ntohs(a.sin_port);
    uv_udp_recv_start(&f.udp, on_alloc, on_recv);
    sb_loop_add_closer(f.loop, "fx", close_fx, &f);
    assert_int_equal(sb_sip_new(f.loop, &cfg, &f.sip, err, sizeof err), 0);

    char route[160], dest[96];
    snprintf(route, sizeof route, "<sip:127.0.0.1:%d;lr>, <sip:proxy2.invalid;lr>",
             f.peer_port);
    snprintf(dest, sizeof dest, "sip:127.0.0.1:%d;transport=udp", f.peer_port);
    /* An incoming leg: our tag is in the To we answered with. */
    sb_sip_dialog_t in = {
        .call_id = "dead-1@192.0.2.7",
        .local = "<sip:1111@127.0.0.1>;tag=ours1",
        .remote = "\"Bob\" <sip:bob@192.0.2.7>;tag=theirs1",
        .remote_target = "sip:bob@192.0.2.7:5062",
        .route_set = route,
        .local_cseq = 1,
    };
    /* An outgoing leg straight to its next hop, whose CSeq is near the
     * top of the range. */
    sb_sip_dialog_t out = {
        .call_id = "dead-2@127.0.0.1",
        .outgoing = 1,
        .local = "<sip:bob@127.0.0.1>;tag=ours2",
        .remote = "<sip:+131313@127.0.0.1>;tag=theirs2",
        .remote_target = "sip:+131313@127.0.0.1:5999",
        .local_cseq = 2147483646,
        .dest = dest,
    };

    sb_sip_dialog_t bad = in;
    bad.call_id = "";
    assert_int_equal(sb_sip_dialog_bye(f.sip, &bad, "x"), SB_EINVAL);
    bad = in;
    bad.local = "<sip:1111@127.0.0.1>";
    assert_int_equal(sb_sip_dialog_bye(f.sip, &bad, "x"), SB_EINVAL);
    bad = in;
    bad.remote = "<sip:bob@192.0.2.7>";
    assert_int_equal(sb_sip_dialog_bye(f.sip, &bad, "x"), SB_EINVAL);
    bad = in;
    bad.remote_target = "tel:+15551234";
    assert_int_equal(sb_sip_dialog_bye(f.sip, &bad, "x"), SB_EINVAL);
    bad = in;
    bad.remote_target = NULL;
    assert_int_equal(sb_sip_dialog_bye(f.sip, &bad, "x"), SB_EINVAL);
    bad = out;
    bad.dest = "not a uri";
    assert_int_equal(sb_sip_dialog_bye(f.sip, &bad, "x"), SB_EINVAL);
    assert_null(f.sip->byes);

    assert_int_equal(sb_sip_dialog_bye(f.sip, &in, "CA1"), 0);
    assert_int_equal(sb_sip_dialog_bye(f.sip, &out, NULL), 0);
    uv_timer_start(&f.timer, on_poll, 20, 20);
    assert_int_equal(sb_loop_run(f.loop), 0);
    assert_int_equal(sb_loop_free(f.loop), 0);
    sb_config_free(&cfg);
    if (f.failed)
        fail_msg("%s (BYEs received: %d)\n%s\n%s", f.why, f.got, f.first, f.second);

    /* The incoming leg's BYE: to the first route (no next hop stored). */
    const char *m = f.first;
    assert_non_null(strstr(m, "BYE sip:bob@192.0.2.7:5062 SIP/2.0\r\n"));
    assert_non_null(strstr(m, "\r\nCall-ID: dead-1@192.0.2.7\r\n"));
    assert_non_null(strstr(m, "\r\nFrom: <sip:1111@127.0.0.1>;tag=ours1\r\n"));
    assert_non_null(strstr(m, "\r\nTo: \"Bob\" <sip:bob@192.0.2.7>;tag=theirs1\r\n"));
    assert_non_null(strstr(m, "\r\nCSeq: 2147483000 BYE\r\n"));
    char want[200];
    snprintf(want, sizeof want, "\r\nRoute: <sip:127.0.0.1:%d;lr>, <sip:proxy2.invalid;lr>\r\n",
             f.peer_port);
    if (strstr(m, want) == NULL) {
        snprintf(want, sizeof want, "\r\nRoute: <sip:127.0.0.1:%d;lr>\r\n", f.peer_port);
        assert_non_null(strstr(m, want));
        assert_non_null(strstr(m, "\r\nRoute: <sip:proxy2.invalid;lr>\r\n"));
        assert_true(strstr(m, want) < strstr(m, "proxy2.invalid"));
    }
    assert_non_null(strstr(m, "\r\nReason: Q.850;cause=41;text=\"server restarted\"\r\n"));
    /* The outgoing leg's: to its stored next hop, no Route, CSeq capped
     * below 2^31. */
    m = f.second;
    assert_non_null(strstr(m, "BYE sip:+131313@127.0.0.1:5999 SIP/2.0\r\n"));
    assert_non_null(strstr(m, "\r\nFrom: <sip:bob@127.0.0.1>;tag=ours2\r\n"));
    assert_non_null(strstr(m, "\r\nTo: <sip:+131313@127.0.0.1>;tag=theirs2\r\n"));
    assert_non_null(strstr(m, "\r\nCSeq: 2147483647 BYE\r\n"));
    assert_null(strstr(m, "\r\nRoute:"));
}

int main(void)
{
    sb_log_set_level(getenv("SB_TEST_DEBUG") ? SB_LOG_DEBUG : SB_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sip_dialog_bye),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
