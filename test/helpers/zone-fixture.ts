// A generated zone that uses every RR type and every piece of master-file syntax the zone reader
// supports (issue 2), for differential tests against BIND's reader. Deterministic: the same text
// every run. Written as files because `$INCLUDE` needs a second file beside the zone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FEATURE_ZONE_ORIGIN = 'features.example.';

/** Zone text per file name; `features.example.zone` is the zone, the other file is `$INCLUDE`d. */
function featureZoneFiles(): Record<string, string> {
  const zone = String.raw`; every type and syntax feature of the zone reader
$TTL 1h30m
$ORIGIN features.example.
@   IN  SOA ns1 hostmaster.features.example. (
        2024060101 ; serial
        2h         ; refresh, with a unit
        30M        ; retry, upper-case unit
        2w         ; expire
        300 )      ; minimum
        NS  ns1
    5400 IN NS ns2.features.example.
    IN 5400 NS ns3.elsewhere.example.
@   MX  10 mail
    MX  20 mail.elsewhere.example.
ns1 A   192.0.2.1
ns2 A   192.0.2.2
    AAAA 2001:db8::2
mail 1d A 192.0.2.25
    AAAA 2001:db8:0:0:0:0:0:25
www CLASS1 A 192.0.2.80
www 60 IN AAAA ::ffff:192.0.2.80
alias CNAME www
dname DNAME target.elsewhere.example.
4.2.0.192 PTR www.features.example.
txt TXT "plain" unquoted "with ; semicolon" "tab\009and \"quote\"" "\\backslash" ""
txt2 TXT ( "one"
           "two" ; comment inside parentheses
           "three" )
long TXT "${'x'.repeat(255)}" "${'y'.repeat(10)}"
spf SPF "v=spf1 -all"
_sip._udp SRV 10 60 5060 sip
sip A 192.0.2.60
naptr NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.features.example.
naptr NAPTR 100 20 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .
caa CAA 0 issue "ca.example.net; account=123"
    CAA 128 tbs "Unknown"
    CAA 0 iodef "mailto:security@features.example"
sshfp SSHFP 4 2 123456789abcdef67890123456789abcdef67890123456789abcdef123456789
_443._tcp.www TLSA 3 1 1 ( 0C72AC70B745AC19998811B131D662C9
                          AC69DBDBE7CB23E5B514B56664C5D3D6 )
smimea SMIMEA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
hinfo HINFO "PDP-11" "UNIX"
rp RP hostmaster.features.example. txt
loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
loc2 LOC 42 21 54 N 71 06 18 W -24m 30m
ds DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
cds CDS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
dnskey DNSKEY 257 3 8 ( AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjF
                        FVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoX
                        bfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaD
                        X6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpz
                        W5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relS
                        Qageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulq
                        QxA+Uk1ihz0= )
cdnskey CDNSKEY 257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8gcCjFFVQUTf6v58fLjwBd0YI0EzrAcQqBGCzh/RStIoO8g0NfnfL2MTJRkxoXbfDaUeVPQuYEhg37NZWAJQ9VnMVDxP/VHL496M/QZxkjf5/Efucp2gaDX6RS6CXpoY68LsvPVjR0ZSwzz1apAzvN9dlzEheX7ICJBBtuA6G3LQpzW5hOA2hzCTMjJPJ8LbqF6dsV6DoBQzgul0sGIcGOYl7OyQdXfZ57relSQageu+ipAdTTJ25AsRTAoub8ONGcLmqrAmRLKBP1dfwhYB4N7knNnulqQxA+Uk1ihz0=
; the signature expires in 2050 (within RFC 4034 §3.1.5 serial arithmetic of now): an expired one makes the zone broken
rrsig RRSIG A 8 3 86400 20500701000000 20240601000000 2642 features.example. ( oJB1W6WNGv+ldvQ3WDG0MQkg5IEhjRip8WTr
                        PYGv07h108dUKGMeDPKijVCHX3DDKdfb+v6o
                        B9wfuh3DTJXUAfI/M0zmO/zz8bW0Rznl8O3t
                        GNazPwQKkRN20XPXV6nwwfoXmJQbsLNrLfkG
                        J5D6fwFm8nN+6pBzeDQfsS3Ap3o= )
nsec NSEC host.features.example. A MX RRSIG NSEC TYPE1234
nsec3 NSEC3 1 1 12 AABBCCDD 2vptu5timamqttgl4luu9kg21e0aor3s A RRSIG
nsec3-nosalt NSEC3 1 0 0 - 2VPTU5TIMAMQTTGL4LUU9KG21E0AOR3S NS SOA
@ NSEC3PARAM 1 0 12 AABBCCDD
; below the apex: an apex ZONEMD is verified, and this digest is RFC 8976 section 2.4's, not this zone's
zonemd ZONEMD 2024060101 1 1 ( FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE
                               7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE )
svc SVCB 0 www.features.example.
svc1 SVCB 1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ech=AEn+DQBFKwAgACABWIHUGj4u+PIggYXcR5JF0gYk3dCRioBW8uJq9H4mKAAIAAEAAQABAANAEnB1YmxpYy50bHMtZWNoLmRldgAA
svc2 SVCB 16 foo.elsewhere.example. mandatory=alpn alpn=h2 no-default-alpn ipv6hint=2001:db8::1 key65333=abc
https HTTPS 1 . alpn=h3,h2 port=443
_http._tcp URI 10 1 "https://www.features.example/"
cert CERT PGP 0 0 MQ==
cert2 CERT 1 12345 8 AwEAAQ==
openpgpkey OPENPGPKEY mQINBFxyz0sBEAC2cR3cZ+Ut7sC1S0nWo5dQ
generic TYPE65534 \# 4 0a0b0c0d
generic2 CLASS1 TYPE65535 \# 0
generic-a IN TYPE1 \# 4 c0000263
escaped\.dot A 192.0.2.90
\065bc\100ef A 192.0.2.91
sp\032ace TXT "name with a space"
*.wild A 192.0.2.100
*.wild TXT "wildcard"
a.b.ent A 192.0.2.102
sub NS ns.sub
    DS 12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D5E6A6A9B2E8F2E5A64A4B9A
ns.sub A 192.0.2.201
MixedCase.Host A 192.0.2.103
$GENERATE 1-5 host$ A 192.0.2.$
$GENERATE 10-20/5 gen-${'$'}{0,3,d} CNAME host1
$GENERATE 1-3 $.rev PTR host$.features.example.
$INCLUDE features.inc inc
after-include A 192.0.2.250
`;
  const inc = String.raw`; included with origin inc.features.example.
$TTL 120
@     A    192.0.2.240
inner TXT  "from the include"
      MX   5 @
`;
  return { 'features.example.zone': zone, 'features.inc': inc };
}

/** Writes the feature zone's files into `dir`; returns the zone file's path. */
export function writeFeatureZone(dir: string): string {
  for (const [name, text] of Object.entries(featureZoneFiles())) writeFileSync(join(dir, name), text);
  return join(dir, 'features.example.zone');
}
