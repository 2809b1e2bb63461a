/* test_util.c: buffers, SIDs, time formats, crypto helpers and the error
 * table of core/util. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util.h"

static void test_util_buf_reserved_buffer_is_an_empty_string(void **state)
{
    sb_buf_t b = SB_BUF_INIT;
    assert_string_equal(sb_buf_str(&b), "");
    sb_buf_reserve(&b, 10);
    /* A reader that looks at data right after reserve sees "", not junk. */
    assert_non_null(b.data);
    assert_int_equal(b.data[0], '\0');
    assert_string_equal(sb_buf_str(&b), "");
    sb_buf_free(&b);
}

static void test_util_buf_appends_grow_and_consume(void **state)
{
    sb_buf_t b = SB_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        sb_buf_printf(&b, "%d,", i % 10);
    assert_int_equal(b.len, 2000);
    assert_int_equal(strlen(b.data), 2000);
    sb_buf_consume(&b, 1990);
    assert_string_equal(b.data, "5,6,7,8,9,");
    sb_buf_putc(&b, 'x');
    sb_buf_puts(&b, "yz");
    assert_string_equal(sb_buf_str(&b), "5,6,7,8,9,xyz");
    char *s = sb_buf_steal(&b);
    assert_string_equal(s, "5,6,7,8,9,xyz");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
}

static void test_util_sid_forms(void **state)
{
    char sid[SB_SID_SIZE], call[SB_SID_SIZE];
    sb_sid_new("AP", sid);
    assert_int_equal(strlen(sid), SB_SID_LEN);
    assert_true(sb_sid_valid(sid, "AP"));
    assert_false(sb_sid_valid(sid, "AC"));
    sb_sid_new_call("ID0123456789abcdef0123456789abcdef", call);
    assert_int_equal(strlen(call), SB_CALL_SID_LEN);
    assert_true(sb_sid_valid(call, "CA"));
    assert_false(sb_sid_valid("AC123", NULL));
    assert_false(sb_sid_valid("AC0123456789abcdef0123456789abcde!", NULL));
    /* Account SIDs are AC + md5(lower(email)), as Restcomm makes them. */
    char a1[SB_SID_SIZE], a2[SB_SID_SIZE];
    sb_sid_account("Admin@Example.com", a1);
    sb_sid_account("admin@example.com", a2);
    assert_string_equal(a1, a2);
    char md5[33];
    sb_md5_hex("admin@example.com", 17, md5);
    assert_string_equal(a1 + 2, md5);
}

static void test_util_time_formats(void **state)
{
    char out[SB_TIME_BUF];
    sb_time_rfc2822(1489572657, out);
    assert_string_equal(out, "Wed, 15 Mar 2017 10:10:57 +0000");
    sb_time_iso8601_ms(1489572657123LL, out);
    assert_string_equal(out, "2017-03-15T10:10:57.123Z");
    time_t t;
    assert_int_equal(sb_time_parse_date("2017-03-15", &t), 0);
    assert_int_equal((long long)t, 1489536000LL);
    assert_int_equal(sb_time_parse_date("2017-03-15T10:10:57", &t), 0);
    assert_int_equal((long long)t, 1489572657LL);
    assert_int_equal(sb_time_parse_date("2017-13-01", &t), SB_EINVAL);
    assert_int_equal(sb_time_parse_date("yesterday", &t), SB_EINVAL);
    assert_int_equal(sb_time_parse_date("2017-03-15junk", &t), SB_EINVAL);
}

static void test_util_password_hash_is_salted_and_verifies(void **state)
{
    char *a = sb_password_hash("correct horse", 1000);
    char *b = sb_password_hash("correct horse", 1000);
    assert_string_not_equal(a, b);              /* different salts */
    assert_null(strstr(a, "correct"));
    assert_true(sb_password_verify("correct horse", a));
    assert_true(sb_password_verify("correct horse", b));
    assert_false(sb_password_verify("correct horsf", a));
    assert_false(sb_password_verify("correct horse", "md5$whatever"));
    assert_false(sb_password_verify("correct horse", "pbkdf2-sha256$0$00$00"));
    free(a);
    free(b);
    char *t1 = sb_token_new(), *t2 = sb_token_new();
    assert_int_equal(strlen(t1), 32);
    assert_string_not_equal(t1, t2);
    free(t1);
    free(t2);
}

static void test_util_ct_streq(void **state)
{
    assert_true(sb_ct_streq("abc", "abc"));
    assert_false(sb_ct_streq("abc", "abd"));
    assert_false(sb_ct_streq("abc", "abcd"));
    assert_false(sb_ct_streq("", "a"));
    assert_true(sb_ct_streq("", ""));
}

static void test_util_error_table(void **state)
{
    assert_string_equal(sb_err_name(SB_ETIMEDOUT), "SB_ETIMEDOUT");
    assert_string_equal(sb_err_reason(SB_EHANGUP), "hangup");
    assert_string_equal(sb_err_reason(SB_ENOANSWER), "no-answer");
    assert_string_equal(sb_strerror(SB_ECODEC), "no common codec");
    /* libuv's codes pass through and never collide with ours. */
    assert_string_equal(sb_err_name(UV_EADDRINUSE), "EADDRINUSE");
    assert_true((int)SB_EINVAL < (int)UV_ERRNO_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_util_buf_reserved_buffer_is_an_empty_string),
        cmocka_unit_test(test_util_buf_appends_grow_and_consume),
        cmocka_unit_test(test_util_sid_forms),
        cmocka_unit_test(test_util_time_formats),
        cmocka_unit_test(test_util_password_hash_is_salted_and_verifies),
        cmocka_unit_test(test_util_ct_streq),
        cmocka_unit_test(test_util_error_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
