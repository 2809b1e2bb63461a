# Liveness: SIP OPTIONS answered 200 with Allow on UDP and TCP, and the
# REST listener asks for credentials with Restcomm's realm.

cat >"$SB_TMP/options.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options">
  <send>
    <![CDATA[
      OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:probe@[local_ip]:[local_port]>;tag=[call_number]
      To: <sip:[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 OPTIONS
      Contact: <sip:probe@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200">
    <action>
      <ereg regexp="OPTIONS" search_in="hdr" header="Allow:" check_it="true" assign_to="allow"/>
    </action>
  </recv>
  <Reference variables="allow"/>
</scenario>
XML

sipp_run options_udp -sf "$SB_TMP/options.xml" -t u1 \
  || { cat "$SB_TMP/options_udp.out" "$SB_TMP"/options_udp.err 2>/dev/null; fail "OPTIONS over UDP"; }
pass "OPTIONS over UDP answered 200 with Allow"
sipp_run options_tcp -sf "$SB_TMP/options.xml" -t t1 \
  || { cat "$SB_TMP/options_tcp.out" "$SB_TMP"/options_tcp.err 2>/dev/null; fail "OPTIONS over TCP"; }
pass "OPTIONS over TCP answered 200 with Allow"

hdrs=$(curl -s -D - -o /dev/null "$SB_BASE/Accounts")
assert_contains "$hdrs" "HTTP/1.1 401" "GET Accounts without credentials is 401"
assert_contains "$hdrs" 'WWW-Authenticate: Basic realm="Restcomm realm"' "401 carries Restcomm's realm"
