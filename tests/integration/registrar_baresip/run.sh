# A real SIP client: baresip (headless, no audio modules, its own config
# folder) registers with digest authentication over UDP and then TCP, the
# registrar stores each binding with the client's source address, and
# baresip's unregistration on exit removes it.
#
# Needs the baresip-core Debian package, which ./setup.sh installs; a
# missing baresip is a failure, not a skip, so CI cannot pass without it.
source ../registrar_common/lib.sh

command -v baresip >/dev/null || fail "baresip is not installed (apt-get install baresip-core)"

make_client ivan Ivan-Secret-66 >/dev/null
BS=$SB_TMP/baresip
mkdir -p "$BS"
cat >"$BS/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			g711.so
module_app		account.so
CONF

for tp in udp tcp; do
  printf '<sip:ivan@127.0.0.1:%s;transport=%s>;auth_pass=Ivan-Secret-66;regint=300\n' \
    "$SB_SIP_PORT" "$tp" >"$BS/accounts"
  # -t: baresip quits by itself after 4 s, unregistering first.
  HOME=$SB_TMP timeout 30 baresip -f "$BS" -t 4 >"$SB_TMP/baresip_$tp.out" 2>&1 &
  bs_pid=$!
  wait_for 15 grep -q "registered ivan at .* via $tp:127.0.0.1:[0-9]* .*(baresip" "$SB_LOG" \
    || { cat "$SB_TMP/baresip_$tp.out"; fail "baresip over $tp did not register"; }
  pass "baresip registered over $tp"
  rows=$(reg_rows ivan)
  assert_contains "$rows" "|127.0.0.1|" "binding keeps baresip's source address ($tp)"
  assert_contains "$rows" "|$tp|" "binding marked $tp"
  wait "$bs_pid" || fail "baresip exited with an error ($tp)"
  grep -q "{0/${tp^^}/v4} 200 OK" "$SB_TMP/baresip_$tp.out" \
    || { cat "$SB_TMP/baresip_$tp.out"; fail "baresip did not report 200 OK ($tp)"; }
  pass "baresip reports 200 OK over $tp"
  wait_for 10 [ "$(reg_count ivan)" = 0 ] || fail "baresip's unregistration left a binding"
  pass "baresip unregistered on exit ($tp)"
done
