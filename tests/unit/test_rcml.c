/*
 * test_rcml.c: the RCML parser on good documents and on each kind of bad
 * input (not XML, wrong root, size, depth, node count, attribute counts,
 * encodings the pre-scan cannot read, entity bombs, external entities),
 * and the voice-request parameters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "rcml.h"
#include "util.h"

static char *read_fixture(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rcml/%s", SB_FIXTURES, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int parse_fixture(const char *name, sb_rcml_doc_t **doc, char *err,
                         size_t errlen)
{
    size_t len;
    char *xml = read_fixture(name, &len);
    int rc = sb_rcml_parse(xml, len, NULL, doc, err, errlen);
    free(xml);
    return rc;
}

static void test_rcml_good_document_builds_tree(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(parse_fixture("good.xml", &doc, err, sizeof err), 0);
    assert_non_null(doc);
    const sb_rcml_node_t *r = &doc->root;
    assert_string_equal(r->name, "Response");
    assert_int_equal(r->child_count, 6);

    const sb_rcml_node_t *say = &r->children[0];
    assert_string_equal(say->name, "Say");
    assert_string_equal(say->text, "Hello & welcome");
    assert_int_equal(say->attr_count, 2);
    assert_string_equal(sb_rcml_attr(say, "voice"), "woman");
    assert_string_equal(sb_rcml_attr(say, "language"), "en");
    assert_null(sb_rcml_attr(say, "loop"));
    assert_int_equal(say->line, 5);

    const sb_rcml_node_t *pause = &r->children[1];
    assert_string_equal(pause->name, "Pause");
    assert_string_equal(pause->text, "");
    assert_string_equal(sb_rcml_attr(pause, "length"), "2");

    const sb_rcml_node_t *gather = &r->children[2];
    assert_string_equal(gather->name, "Gather");
    assert_int_equal(gather->child_count, 2);
    assert_string_equal(gather->text, "");
    assert_string_equal(gather->children[0].name, "Say");
    assert_string_equal(gather->children[0].text, "Press 1");
    assert_string_equal(gather->children[1].name, "Play");
    assert_string_equal(gather->children[1].text,
                        "http://example.com/a.wav?x=1&y=2");

    const sb_rcml_node_t *dial = &r->children[3];
    assert_int_equal(dial->child_count, 1);
    assert_string_equal(dial->children[0].text, "+15550123");

    assert_string_equal(r->children[4].name, "Redirect");
    assert_string_equal(r->children[4].text, "next.xml");
    assert_string_equal(r->children[5].name, "Hangup");
    assert_int_equal(r->children[5].child_count, 0);
    sb_rcml_free(doc);
}

static void test_rcml_empty_response_has_no_verbs(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    assert_int_equal(parse_fixture("empty_response.xml", &doc, NULL, 0), 0);
    assert_int_equal(doc->root.child_count, 0);
    assert_null(doc->root.children);
    sb_rcml_free(doc);
}

static void test_rcml_not_xml_is_syntax_error(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(parse_fixture("not_xml.txt", &doc, err, sizeof err),
                     SB_ESYNTAX);
    assert_null(doc);
    assert_non_null(strstr(err, "not well-formed"));
    assert_non_null(strstr(err, "line 1"));

    const char *trunc = "<Response><Say>hi</Say>";
    assert_int_equal(sb_rcml_parse(trunc, strlen(trunc), NULL, &doc, err,
                                   sizeof err), SB_ESYNTAX);
    assert_int_equal(sb_rcml_parse("", 0, NULL, &doc, err, sizeof err),
                     SB_ESYNTAX);
    assert_int_equal(sb_rcml_parse(NULL, 0, NULL, &doc, NULL, 0), SB_ESYNTAX);
    assert_null(doc);
}

static void test_rcml_wrong_root_is_rcml_error(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(parse_fixture("wrong_root.xml", &doc, err, sizeof err),
                     SB_ERCML);
    assert_null(doc);
    assert_non_null(strstr(err, "<html>"));
    /* Case matters: RCML verbs and the root are case-sensitive. */
    const char *lower = "<response/>";
    assert_int_equal(sb_rcml_parse(lower, strlen(lower), NULL, &doc, err,
                                   sizeof err), SB_ERCML);
}

static void test_rcml_ten_megabytes_rejected_before_parsing(void **state)
{
    size_t len = 10u * 1024 * 1024;
    char *xml = malloc(len);
    /* Well-formed except for its size: the cap must apply first. */
    memset(xml, ' ', len);
    memcpy(xml, "<Response>", 10);
    memcpy(xml + len - 11, "</Response>", 11);
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(sb_rcml_parse(xml, len, NULL, &doc, err, sizeof err),
                     SB_ETOOBIG);
    assert_null(doc);
    assert_non_null(strstr(err, "limit"));

    /* The same document passes with a bigger cap: the size is the reason. */
    sb_rcml_limits_t lim = {.max_bytes = 16u * 1024 * 1024};
    assert_int_equal(sb_rcml_parse(xml, len, &lim, &doc, err, sizeof err), 0);
    sb_rcml_free(doc);
    free(xml);
}

static char *nested(int depth, size_t *len)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, "<Response>");
    for (int i = 0; i < depth; i++)
        sb_buf_puts(&b, "<Gather>");
    for (int i = 0; i < depth; i++)
        sb_buf_puts(&b, "</Gather>");
    sb_buf_puts(&b, "</Response>");
    *len = b.len;
    return sb_buf_steal(&b);
}

static void test_rcml_deep_nesting_rejected(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    size_t len;
    /* Within the default depth (16, Response included). */
    char *ok = nested(15, &len);
    assert_int_equal(sb_rcml_parse(ok, len, NULL, &doc, err, sizeof err), 0);
    sb_rcml_free(doc);
    doc = NULL;
    free(ok);

    char *deep = nested(16, &len);
    assert_int_equal(sb_rcml_parse(deep, len, NULL, &doc, err, sizeof err),
                     SB_ELIMIT);
    assert_null(doc);
    assert_non_null(strstr(err, "nesting"));
    free(deep);

    /* Far deeper than libxml2's own limit: still a clean error. */
    char *abyss = nested(40000, &len);
    int rc = sb_rcml_parse(abyss, len, NULL, &doc, err, sizeof err);
    assert_true(rc == SB_ESYNTAX || rc == SB_ELIMIT);
    assert_null(doc);
    free(abyss);
}

static void test_rcml_node_count_limited(void **state)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, "<Response>");
    for (int i = 0; i < 200; i++)
        sb_buf_puts(&b, "<Pause/>");
    sb_buf_puts(&b, "</Response>");
    sb_rcml_limits_t lim = {.max_nodes = 100};
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(sb_rcml_parse(b.data, b.len, &lim, &doc, err, sizeof err),
                     SB_ELIMIT);
    assert_null(doc);
    lim.max_nodes = 201;
    assert_int_equal(sb_rcml_parse(b.data, b.len, &lim, &doc, err, sizeof err),
                     0);
    assert_int_equal(doc->root.child_count, 200);
    sb_rcml_free(doc);
    sb_buf_free(&b);
}

static void test_rcml_billion_laughs_rejected(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(parse_fixture("billion_laughs.xml", &doc, err,
                                   sizeof err), SB_EPERM);
    assert_null(doc);
    assert_non_null(strstr(err, "entity"));
}

/* The same bomb in UTF-16: the byte scan cannot see "<!ENTITY", so the SAX
 * entity-declaration callback must stop the parser. */
static void test_rcml_utf16_entity_bomb_rejected(void **state)
{
    size_t len;
    char *ascii = read_fixture("billion_laughs.xml", &len);
    /* Drop the XML declaration (it would claim a 1-byte encoding). */
    char *body = strstr(ascii, "<!DOCTYPE");
    size_t blen = strlen(body);
    unsigned char *u16 = malloc(2 + 2 * blen);
    u16[0] = 0xFF;
    u16[1] = 0xFE;
    for (size_t i = 0; i < blen; i++) {
        u16[2 + 2 * i] = (unsigned char)body[i];
        u16[3 + 2 * i] = 0;
    }
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(sb_rcml_parse((const char *)u16, 2 + 2 * blen, NULL, &doc,
                                   err, sizeof err), SB_EPERM);
    assert_null(doc);
    free(u16);
    free(ascii);

    /* A UTF-16 document without entities parses normally. */
    const char *plain = "<Response><Say>hi</Say></Response>";
    size_t plen = strlen(plain);
    u16 = malloc(2 + 2 * plen);
    u16[0] = 0xFF;
    u16[1] = 0xFE;
    for (size_t i = 0; i < plen; i++) {
        u16[2 + 2 * i] = (unsigned char)plain[i];
        u16[3 + 2 * i] = 0;
    }
    assert_int_equal(sb_rcml_parse((const char *)u16, 2 + 2 * plen, NULL, &doc,
                                   err, sizeof err), 0);
    assert_string_equal(doc->root.children[0].text, "hi");
    sb_rcml_free(doc);
    free(u16);
}

static void test_rcml_external_entity_not_loaded(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(parse_fixture("xxe_internal.xml", &doc, err, sizeof err),
                     SB_EPERM);
    assert_null(doc);

    /* An external DTD that would declare the entity: never read. */
    char *xml = sb_xasprintf(
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE Response SYSTEM \"file://%s/rcml/xxe.dtd\">\n"
        "<Response><Say>[&secret;]</Say></Response>\n",
        SB_FIXTURES);
    int rc = sb_rcml_parse(xml, strlen(xml), NULL, &doc, err, sizeof err);
    if (rc == 0) {
        assert_null(strstr(doc->root.children[0].text, "LEAKED"));
        sb_rcml_free(doc);
    } else {
        assert_true(rc == SB_ESYNTAX || rc == SB_EPERM);
        assert_null(doc);
    }
    free(xml);
}

static void test_rcml_undeclared_entity_is_syntax_error(void **state)
{
    const char *xml = "<Response><Say>&nope;</Say></Response>";
    sb_rcml_doc_t *doc = NULL;
    assert_int_equal(sb_rcml_parse(xml, strlen(xml), NULL, &doc, NULL, 0),
                     SB_ESYNTAX);
    assert_null(doc);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* <Response><Say a0="v" a1="v" ...>hi</Say></Response> */
static char *many_attrs(int n, size_t *len)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, "<Response><Say");
    for (int i = 0; i < n; i++)
        sb_buf_printf(&b, " a%d=\"v\"", i);
    sb_buf_puts(&b, ">hi</Say></Response>");
    *len = b.len;
    return sb_buf_steal(&b);
}

/* Issue 23: 60,000 attributes on one element (649 KB) held the event
 * loop for 81 s inside libxml2. Refused by the pre-scan instead; the
 * bound on the time is generous (a regression takes tens of seconds). */
static void test_rcml_attribute_flood_refused_quickly(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    size_t len;
    char *xml = many_attrs(60000, &len);
    double t0 = now_s();
    assert_int_equal(sb_rcml_parse(xml, len, NULL, &doc, err, sizeof err),
                     SB_ELIMIT);
    assert_true(now_s() - t0 < 2.0);
    assert_null(doc);
    assert_non_null(strstr(err, "attributes"));
    free(xml);

    /* At the limit it parses; one more is refused. */
    xml = many_attrs(SB_RCML_DEFAULT_MAX_ATTRS, &len);
    assert_int_equal(sb_rcml_parse(xml, len, NULL, &doc, err, sizeof err), 0);
    assert_int_equal(doc->root.children[0].attr_count,
                     SB_RCML_DEFAULT_MAX_ATTRS);
    sb_rcml_free(doc);
    doc = NULL;
    free(xml);
    xml = many_attrs(SB_RCML_DEFAULT_MAX_ATTRS + 1, &len);
    assert_int_equal(sb_rcml_parse(xml, len, NULL, &doc, err, sizeof err),
                     SB_ELIMIT);
    free(xml);

    /* A '>' or '=' inside a quoted value hides nothing and counts nothing;
     * '=' in text is not an attribute. */
    sb_rcml_limits_t lim = {.max_attrs = 2};
    const char *ok = "<Response><Play a=\"x>y=z\" b='='>http://h/p?a=1&amp;"
                     "b=2&amp;c=3</Play></Response>";
    assert_int_equal(sb_rcml_parse(ok, strlen(ok), &lim, &doc, err,
                                   sizeof err), 0);
    assert_string_equal(sb_rcml_attr(&doc->root.children[0], "a"), "x>y=z");
    sb_rcml_free(doc);
    doc = NULL;
    const char *bad = "<Response><Play a=\"x>\" b='>' c=\"\">u</Play>"
                      "</Response>";
    assert_int_equal(sb_rcml_parse(bad, strlen(bad), &lim, &doc, err,
                                   sizeof err), SB_ELIMIT);
}

/* The total over the document is bounded too: many elements each under
 * the per-element cap. */
static void test_rcml_total_attributes_limited(void **state)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, "<Response>");
    for (int i = 0; i < 200; i++)
        sb_buf_puts(&b, "<Pause a=\"1\" b=\"2\" c=\"3\" d=\"4\" e=\"5\"/>");
    sb_buf_puts(&b, "</Response>");
    sb_rcml_limits_t lim = {.max_total_attrs = 999};
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(sb_rcml_parse(b.data, b.len, &lim, &doc, err, sizeof err),
                     SB_ELIMIT);
    assert_non_null(strstr(err, "attributes in the document"));
    lim.max_total_attrs = 1000;
    assert_int_equal(sb_rcml_parse(b.data, b.len, &lim, &doc, err, sizeof err),
                     0);
    sb_rcml_free(doc);
    sb_buf_free(&b);
}

/* In UTF-16 the markup characters are two bytes each: counted the same. */
static void test_rcml_utf16_attribute_flood_refused(void **state)
{
    size_t len;
    char *ascii = many_attrs(1000, &len);
    unsigned char *u16 = malloc(2 + 2 * len);
    u16[0] = 0xFE;
    u16[1] = 0xFF;
    for (size_t i = 0; i < len; i++) {
        u16[2 + 2 * i] = 0;
        u16[3 + 2 * i] = (unsigned char)ascii[i];
    }
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    assert_int_equal(sb_rcml_parse((const char *)u16, 2 + 2 * len, NULL, &doc,
                                   err, sizeof err), SB_ELIMIT);
    assert_null(doc);
    free(u16);
    free(ascii);
}

/* Encodings in which '<', '=' or '"' may be spelt otherwise (UTF-7, the
 * ISO-2022 family, EBCDIC) are refused; the usual ones still parse. An
 * attribute-list declaration (its defaults would add attributes the scan
 * never sees) is refused like an entity declaration. */
static void test_rcml_unreadable_encodings_and_attlists_refused(void **state)
{
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    const char *utf7 = "<?xml version=\"1.0\" encoding=\"UTF-7\"?>"
                       "<Response><Say>hi</Say></Response>";
    assert_int_equal(sb_rcml_parse(utf7, strlen(utf7), NULL, &doc, err,
                                   sizeof err), SB_ESYNTAX);
    assert_non_null(strstr(err, "encoding"));
    const char *jis = "<?xml version='1.0' encoding='ISO-2022-JP'?>"
                      "<Response/>";
    assert_int_equal(sb_rcml_parse(jis, strlen(jis), NULL, &doc, err,
                                   sizeof err), SB_ESYNTAX);
    const char ebcdic[] = "\x4C\x6F\xA7\x94\x93\x40";
    assert_int_equal(sb_rcml_parse(ebcdic, sizeof ebcdic - 1, NULL, &doc, err,
                                   sizeof err), SB_ESYNTAX);
    assert_null(doc);

    const char *latin = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                        "<Response><Say>caf\xe9</Say></Response>";
    assert_int_equal(sb_rcml_parse(latin, strlen(latin), NULL, &doc, err,
                                   sizeof err), 0);
    assert_string_equal(doc->root.children[0].text, "caf\xc3\xa9");
    sb_rcml_free(doc);
    doc = NULL;

    const char *attlist = "<!DOCTYPE Response [<!ATTLIST Say a CDATA \"1\" "
                          "b CDATA \"2\">]><Response><Say>hi</Say></Response>";
    assert_int_equal(sb_rcml_parse(attlist, strlen(attlist), NULL, &doc, err,
                                   sizeof err), SB_EPERM);
    assert_non_null(strstr(err, "attribute-list"));
    assert_null(doc);

    /* A DOCTYPE whose comment holds a quote does not hide what follows. */
    sb_rcml_limits_t lim = {.max_attrs = 1};
    const char *hide = "<!DOCTYPE Response [<!-- \" -->]>"
                       "<Response><Say a=\"1\" b=\"2\">hi</Say></Response>";
    assert_int_equal(sb_rcml_parse(hide, strlen(hide), &lim, &doc, err,
                                   sizeof err), SB_ELIMIT);
}

static void test_rcml_voice_params_order_and_defaults(void **state)
{
    sb_rcml_header_t hdrs[] = {
        {"Via", "SIP/2.0/UDP 127.0.0.1"},
        {"X-My-Custom-Header", "My Custom Value"},
        {"Diversion", "<sip:11223344@xyz.com>;counter=1;reason=UNKNOWN"},
        {"x-lower", "v"},
    };
    sb_rcml_call_info_t ci = {
        .call_sid = "ID1-CA1", .instance_id = "ID1", .account_sid = "AC1",
        .from = "bob", .to = "+12223334455", .call_status = "ringing",
        .direction = "inbound", .call_timestamp = "2024-01-01T00:00:00Z",
        .headers = hdrs, .header_count = SB_COUNTOF(hdrs),
    };
    sb_rcml_params_t p = SB_RCML_PARAMS_INIT;
    sb_rcml_voice_params(&ci, &p);
    const char *names[] = {"CallSid", "InstanceId", "AccountSid", "From", "To",
                           "CallStatus", "ApiVersion", "Direction",
                           "CallerName", "ForwardedFrom", "CallTimestamp",
                           "SipHeader_X-My-Custom-Header", "SipHeader_x-lower",
                           "SipHeader_Diversion"};
    assert_int_equal(p.count, SB_COUNTOF(names));
    for (size_t i = 0; i < SB_COUNTOF(names); i++)
        assert_string_equal(p.items[i].name, names[i]);
    assert_string_equal(sb_rcml_params_get(&p, "ApiVersion"), "2012-04-24");
    assert_string_equal(sb_rcml_params_get(&p, "CallerName"), "null");
    assert_string_equal(sb_rcml_params_get(&p, "ForwardedFrom"), "11223344");
    assert_string_equal(sb_rcml_params_get(&p, "SipHeader_X-My-Custom-Header"),
                        "My Custom Value");
    assert_null(sb_rcml_params_get(&p, "ReferTarget"));
    sb_rcml_params_free(&p);

    /* After a REFER: the three extra parameters after CallTimestamp. */
    sb_rcml_call_info_t r = {.call_sid = "CA2", .refer_target = "alice",
                             .transferor = "+131313", .transferee = "bob",
                             .caller_name = "Bob", .outbound_call_sid = "CA3"};
    sb_rcml_voice_params(&r, &p);
    assert_string_equal(p.items[2].name, "OutboundCallSid");
    assert_string_equal(sb_rcml_params_get(&p, "CallerName"), "Bob");
    assert_string_equal(sb_rcml_params_get(&p, "ForwardedFrom"), "null");
    assert_string_equal(p.items[p.count - 3].name, "ReferTarget");
    assert_string_equal(p.items[p.count - 1].value, "bob");
    sb_rcml_params_free(&p);
}

static void test_rcml_uri_user_extracts_user_part(void **state)
{
    char u[64];
    assert_int_equal(sb_rcml_uri_user("<sip:123@h>;x=1", u, sizeof u), 0);
    assert_string_equal(u, "123");
    assert_int_equal(sb_rcml_uri_user("\"A\" <sips:alice@h:5061>", u, sizeof u),
                     0);
    assert_string_equal(u, "alice");
    assert_int_equal(sb_rcml_uri_user("<tel:+15550100;phone-context=x>", u,
                                      sizeof u), 0);
    assert_string_equal(u, "+15550100");
    assert_int_equal(sb_rcml_uri_user("<sip:@h>", u, sizeof u), SB_ENOENT);
    assert_int_equal(sb_rcml_uri_user("garbage", u, sizeof u), SB_ENOENT);
    assert_int_equal(sb_rcml_uri_user(NULL, u, sizeof u), SB_ENOENT);
    assert_string_equal(u, "");
    char small[4];
    assert_int_equal(sb_rcml_uri_user("sip:123456@h", small, sizeof small), 0);
    assert_string_equal(small, "123");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rcml_good_document_builds_tree),
        cmocka_unit_test(test_rcml_empty_response_has_no_verbs),
        cmocka_unit_test(test_rcml_not_xml_is_syntax_error),
        cmocka_unit_test(test_rcml_wrong_root_is_rcml_error),
        cmocka_unit_test(test_rcml_ten_megabytes_rejected_before_parsing),
        cmocka_unit_test(test_rcml_deep_nesting_rejected),
        cmocka_unit_test(test_rcml_node_count_limited),
        cmocka_unit_test(test_rcml_billion_laughs_rejected),
        cmocka_unit_test(test_rcml_utf16_entity_bomb_rejected),
        cmocka_unit_test(test_rcml_external_entity_not_loaded),
        cmocka_unit_test(test_rcml_undeclared_entity_is_syntax_error),
        cmocka_unit_test(test_rcml_attribute_flood_refused_quickly),
        cmocka_unit_test(test_rcml_total_attributes_limited),
        cmocka_unit_test(test_rcml_utf16_attribute_flood_refused),
        cmocka_unit_test(test_rcml_unreadable_encodings_and_attlists_refused),
        cmocka_unit_test(test_rcml_voice_params_order_and_defaults),
        cmocka_unit_test(test_rcml_uri_user_extracts_user_part),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
