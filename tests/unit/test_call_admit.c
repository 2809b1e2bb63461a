/* test_call_admit.c: the admission decisions of core/call/admit.c, driven
 * with their own clock and load samples: the live-call limit, the token
 * bucket of calls.max_rate (burst, refill, cap) and the overload state of
 * calls.max_load (smoothing, hysteresis). The wiring (503 with Retry-After
 * before any work) is tested end to end in tests/integration/calls_admission. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "call_int.h"

static void test_admit_no_limits_admits_everything(void **state)
{
    (void)state;
    sb__admit_t a;
    sb__admit_init(&a, 0, 0, 0, 1000);
    int retry = -1;
    for (int i = 0; i < 10000; i++)
        assert_null(sb__admit_check(&a, i, 1000, &retry));
    assert_int_equal(retry, -1);
    assert_int_equal(sb__admit_sample(&a, 100), 0);     /* max_load off */
    assert_null(sb__admit_check(&a, 5, 1000, &retry));
}

static void test_admit_max_concurrent(void **state)
{
    (void)state;
    sb__admit_t a;
    sb__admit_init(&a, 3, 0, 0, 0);
    int retry = 0;
    assert_null(sb__admit_check(&a, 2, 0, &retry));
    assert_non_null(sb__admit_check(&a, 3, 0, &retry));
    assert_int_equal(retry, 5);
    assert_non_null(sb__admit_check(&a, 4, 0, &retry));
    assert_null(sb__admit_check(&a, 0, 0, &retry));
}

static void test_admit_max_rate_bucket(void **state)
{
    (void)state;
    sb__admit_t a;
    sb__admit_init(&a, 0, 10, 0, 5000);
    int retry = 0;
    /* A full bucket: ten at once, then refused. */
    for (int i = 0; i < 10; i++)
        assert_null(sb__admit_check(&a, 0, 5000, &retry));
    assert_non_null(sb__admit_check(&a, 0, 5000, &retry));
    assert_int_equal(retry, 1);
    /* 10/s: one more every 100 ms. */
    assert_non_null(sb__admit_check(&a, 0, 5050, &retry));
    assert_null(sb__admit_check(&a, 0, 5100, &retry));
    assert_non_null(sb__admit_check(&a, 0, 5100, &retry));
    /* A long pause refills to the cap, not beyond. */
    int admitted = 0;
    while (sb__admit_check(&a, 0, 60000, &retry) == NULL)
        admitted++;
    assert_int_equal(admitted, 10);
    /* A refused call takes no token: steady 10/s gets all through. */
    uint64_t t = 60000;
    int ok = 0;
    for (int i = 0; i < 100; i++) {
        t += 100;
        if (sb__admit_check(&a, 0, t, &retry) == NULL)
            ok++;
    }
    assert_int_equal(ok, 100);
}

static void test_admit_concurrent_refusal_keeps_tokens(void **state)
{
    (void)state;
    sb__admit_t a;
    sb__admit_init(&a, 1, 2, 0, 0);
    int retry = 0;
    for (int i = 0; i < 5; i++)
        assert_non_null(sb__admit_check(&a, 1, 0, &retry));
    assert_int_equal(retry, 5);
    assert_null(sb__admit_check(&a, 0, 0, &retry));
    assert_null(sb__admit_check(&a, 0, 0, &retry));
    assert_non_null(sb__admit_check(&a, 0, 0, &retry));
    assert_int_equal(retry, 1);
}

static void test_admit_load_smoothing_and_hysteresis(void **state)
{
    (void)state;
    sb__admit_t a;
    sb__admit_init(&a, 0, 0, 90, 0);
    int retry = 0;
    /* One saturated sample is not overload (a burst)... */
    assert_int_equal(sb__admit_sample(&a, 100), 0);
    assert_int_equal(sb__admit_sample(&a, 20), 0);
    assert_int_equal(a.overloaded, 0);
    /* ... a saturated loop is, within four samples. */
    int changed_at = 0;
    for (int i = 1; i <= 4 && !changed_at; i++)
        if (sb__admit_sample(&a, 100))
            changed_at = i;
    assert_true(changed_at >= 2 && changed_at <= 4);
    assert_int_equal(a.overloaded, 1);
    assert_non_null(sb__admit_check(&a, 0, 0, &retry));
    assert_int_equal(retry, 5);
    /* Just under the limit is still overload (hysteresis)... */
    for (int i = 0; i < 10; i++)
        assert_int_equal(sb__admit_sample(&a, 85), 0);
    assert_int_equal(a.overloaded, 1);
    /* ... well under it is not. */
    int cleared = 0;
    for (int i = 0; i < 10 && !cleared; i++)
        cleared = sb__admit_sample(&a, 50);
    assert_int_equal(cleared, 1);
    assert_int_equal(a.overloaded, 0);
    assert_null(sb__admit_check(&a, 0, 0, &retry));
    /* Out-of-range samples are clamped. */
    sb__admit_sample(&a, -40);
    assert_true(a.load >= 0);
    for (int i = 0; i < 20; i++)
        sb__admit_sample(&a, 400);
    assert_true(a.load <= 100);
}

static void test_admit_low_max_load_can_clear(void **state)
{
    (void)state;
    sb__admit_t a;
    sb__admit_init(&a, 0, 0, 5, 0);
    for (int i = 0; i < 10; i++)
        sb__admit_sample(&a, 100);
    assert_int_equal(a.overloaded, 1);
    for (int i = 0; i < 20; i++)
        sb__admit_sample(&a, 0);
    assert_int_equal(a.overloaded, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_admit_no_limits_admits_everything),
        cmocka_unit_test(test_admit_max_concurrent),
        cmocka_unit_test(test_admit_max_rate_bucket),
        cmocka_unit_test(test_admit_concurrent_refusal_keeps_tokens),
        cmocka_unit_test(test_admit_load_smoothing_and_hysteresis),
        cmocka_unit_test(test_admit_low_max_load_can_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
