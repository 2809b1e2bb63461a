# Malformed HTTP on the REST port: 1,800 connections carrying seeded
# random mutations of valid REST requests (httpfuzz.py). After each seed
# an authenticated GET must still be answered 200, and the server must
# stop cleanly at the end with no sanitizer report (the runner checks).
for seed in 1 2 3 4 5 6; do
  r=$(python3 "$SB_TEST_DIR/httpfuzz.py" "$seed" 300)
  assert_eq "$r" "HTTP/1.1 200" "300 connections of mutated requests (seed $seed), then a GET is answered"
done
