numbers.pool = "@TMP@/pool.csv"
