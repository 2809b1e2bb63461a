-- 9: call quality, per leg, written when the leg ends (issue 22): what
-- the server received from the phone and sent to it, the phone's loss
-- (RFC 3550) and interarrival jitter, the codec, and an ITU-T G.107
-- (E-model, simplified) MOS estimate from them. NULL for a leg that
-- never carried media.
ALTER TABLE calls ADD COLUMN codec TEXT;
ALTER TABLE calls ADD COLUMN rtp_packets_received INTEGER;
ALTER TABLE calls ADD COLUMN rtp_packets_sent INTEGER;
ALTER TABLE calls ADD COLUMN rtp_packets_lost INTEGER;
ALTER TABLE calls ADD COLUMN jitter_us INTEGER;
ALTER TABLE calls ADD COLUMN mos_x100 INTEGER;
