sip.outbound_proxy = "sip:127.0.0.1:@AUX_PORT@"
-- The number pool resources.py reads (issue 21; written by run.sh).
numbers.pool = "@TMP@/pool.csv"
