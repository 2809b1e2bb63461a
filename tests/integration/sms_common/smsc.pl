#!/usr/bin/perl
# smsc.pl: a small SMSC for the messaging tests, built on Net::SMPP in
# server mode (Debian's libnet-smpp-perl). 127.0.0.1 only; one ESME
# connection at a time; ends by itself after --lifetime seconds.
#
#   smsc.pl --port P --system-id ID --password PW --log FILE
#           [--refuse-binds N]   refuse the first N binds (bad password)
#           [--drop-submit]      close the connection on the first
#                                submit_sm, without answering it
#           [--mo FILE]          when FILE appears, send its line
#                                "FROM TO TEXT" as a deliver_sm (MO SMS)
#           [--lifetime S]
#
# Every PDU it handles is a JSON line in the log: {"ev": "bind"|"submit"|
# "enquire_link"|"deliver_sm_resp"|"connect"|"drop", ...}. Each accepted
# submit_sm is answered with message_id "M<n>" and followed by a delivery
# receipt (deliver_sm, esm_class 0x04, "id:M<n> ... stat:DELIVRD").
use strict;
use warnings;
use Getopt::Long;
use IO::Select;
use Net::SMPP;
use POSIX qw(strftime);

my ($port, $sysid, $pw, $log, $refuse, $drop, $mo, $lifetime) =
    (0, "sb", "secret", "/dev/null", 0, 0, "", 60);
GetOptions("port=i" => \$port, "system-id=s" => \$sysid, "password=s" => \$pw,
           "log=s" => \$log, "refuse-binds=i" => \$refuse, "drop-submit" => \$drop,
           "mo=s" => \$mo, "lifetime=i" => \$lifetime) or die "bad options\n";

sub jstr { my $s = shift; $s =~ s/(["\\])/\\$1/g; $s =~ s/([\x00-\x1f])/sprintf("\\u%04x", ord $1)/ge; "\"$s\"" }
sub note {
    my %h = @_;
    open my $f, ">>", $log or die;
    print $f "{" . join(",", map { jstr($_) . ":" . jstr($h{$_}) } sort keys %h) . "}\n";
    close $f;
}

my $end = time + $lifetime;
$SIG{ALRM} = sub { exit 0 };
alarm $lifetime;
my $srv = Net::SMPP->new_listen("127.0.0.1", port => $port, async => 1,
                                smpp_version => 0x34) or die "listen: $!\n";
print "ready\n";
STDOUT->flush;
my ($binds, $submits, $msgid) = (0, 0, 0);
while (time < $end) {
    my $c = $srv->accept or next;
    note(ev => "connect");
    my $sel = IO::Select->new($c);
    CONN: while (time < $end) {
        if ($mo ne "" && -e $mo) {
            open my $f, "<", $mo; my $line = <$f>; close $f; unlink $mo;
            chomp $line;
            my ($from, $to, $text) = split / /, $line, 3;
            $c->deliver_sm(source_addr => $from, destination_addr => $to,
                           source_addr_ton => 1, short_message => $text);
            note(ev => "mo", from => $from, to => $to);
        }
        next unless $sel->can_read(0.1);
        my $pdu = eval { $c->read_pdu() } or do { note(ev => "drop", by => "esme"); last CONN };
        my $cmd = $pdu->{cmd};
        if ($cmd == 0x00000009) {           # bind_transceiver
            $binds++;
            my $ok = $binds > $refuse && $pdu->{system_id} eq $sysid
                     && $pdu->{password} eq $pw;
            note(ev => "bind", system_id => $pdu->{system_id}, ok => $ok ? 1 : 0);
            $c->bind_transceiver_resp(system_id => "SMSC", seq => $pdu->{seq},
                                      status => $ok ? 0 : 0x0E);
        } elsif ($cmd == 0x00000004) {      # submit_sm
            $submits++;
            my $sm = $pdu->{short_message};
            note(ev => "submit", n => $submits, source => $pdu->{source_addr},
                 dest => $pdu->{destination_addr}, esm_class => $pdu->{esm_class},
                 data_coding => $pdu->{data_coding}, hex => unpack("H*", $sm));
            if ($drop && $submits == 1) {
                note(ev => "drop", by => "smsc");
                close $c;
                last CONN;
            }
            $msgid++;
            $c->submit_sm_resp(message_id => "M$msgid", seq => $pdu->{seq});
            my $d = strftime("%y%m%d%H%M", gmtime);
            $c->deliver_sm(source_addr => $pdu->{destination_addr},
                           destination_addr => $pdu->{source_addr}, esm_class => 0x04,
                           short_message => "id:M$msgid sub:001 dlvrd:001 submit date:$d "
                                            . "done date:$d stat:DELIVRD err:000 text:x");
        } elsif ($cmd == 0x00000015) {      # enquire_link
            note(ev => "enquire_link");
            $c->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == 0x80000005) {      # deliver_sm_resp
            note(ev => "deliver_sm_resp", status => $pdu->{status});
        } elsif ($cmd == 0x00000006) {      # unbind
            note(ev => "unbind");
            $c->unbind_resp(seq => $pdu->{seq});
            last CONN;
        }
    }
    close $c;
}
