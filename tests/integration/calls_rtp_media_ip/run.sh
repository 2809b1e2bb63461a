# calls_rtp with the media on its own address: SIP stays on 127.0.0.1,
# media.bind_ip and media.ip put the RTP sockets and the SDP's c= on
# 127.0.0.2, so the phones' RTP only arrives if both keys are used.
MEDIA_TO=127.0.0.2
source ../calls_rtp/run.sh
