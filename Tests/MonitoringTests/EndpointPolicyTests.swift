import Foundation
@testable import Monitoring
import Testing

/// `EndpointPolicy` (docs/subscriptions.md, "Where notifications may go"): the parsing of
/// addresses, blocks and the operator's setting, and what it allows.
@Suite("Subscription endpoint policy")
struct EndpointPolicyTests {
    static func ip(_ s: String) -> IPAddress { IPAddress(s)! }

    func isRefused(_ v: EndpointPolicy.Verdict) -> Bool {
        if case .refused = v { return true }
        return false
    }

    @Test func ipv4IsParsedStrictly() {
        #expect(IPAddress("192.168.1.20")?.bytes == [192, 168, 1, 20])
        #expect(IPAddress("0.0.0.0")?.bytes == [0, 0, 0, 0])
        #expect(IPAddress("255.255.255.255")?.bytes == [255, 255, 255, 255])
        for bad in ["256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.", "", "a.b.c.d", "1..2.3", " 1.2.3.4", "1.2.3.4/8", "+1.2.3.4"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    @Test func ipv6IsParsedWithCompressionAndAnIPv4Tail() {
        #expect(IPAddress("::")?.bytes == Array(repeating: 0, count: 16))
        #expect(IPAddress("::1")?.bytes == Array(repeating: 0, count: 15) + [1])
        #expect(IPAddress("fe80::1")?.bytes == [0xfe, 0x80] + Array(repeating: 0, count: 13) + [1])
        #expect(IPAddress("2001:db8:0:0:0:0:0:1") == IPAddress("2001:db8::1"))
        #expect(IPAddress("::ffff:169.254.169.254")?.bytes == Array(repeating: 0, count: 10) + [0xff, 0xff, 169, 254, 169, 254])
        #expect(IPAddress("::ffff:a9fe:a9fe") == IPAddress("::ffff:169.254.169.254"))
        #expect(IPAddress("1:2:3:4:5:6:7::") != nil)
        #expect(IPAddress("0:0:0:0:0:ffff:1.2.3.4") == IPAddress("::ffff:1.2.3.4"))
        for bad in [":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "fe80::1%eth0", "g::1", "1:2:3:4:5:6:7:8::", "::ffff:1.2.3",
                    "1.2.3.4::", ":1::", "1:", "[::1]"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        #expect(IPAddress("2001:db8::1")?.description == "2001:db8::1")
        #expect(IPAddress("2001:0:0:1:0:0:0:1")?.description == "2001:0:0:1::1", "the longest run of zeros is compressed")
        #expect(IPAddress("::ffff:169.254.169.254")?.description == "::ffff:a9fe:a9fe")
    }

    @Test func theFormsInetAtonReadsAreAddressesToo() {
        #expect(IPAddress.lenientIPv4("127.1") == EndpointPolicyTests.ip("127.0.0.1"))
        #expect(IPAddress.lenientIPv4("2130706433") == EndpointPolicyTests.ip("127.0.0.1"))
        #expect(IPAddress.lenientIPv4("0x7f000001") == EndpointPolicyTests.ip("127.0.0.1"))
        #expect(IPAddress.lenientIPv4("0x7f.0.0.1") == EndpointPolicyTests.ip("127.0.0.1"))
        #expect(IPAddress.lenientIPv4("0177.0.0.1") == EndpointPolicyTests.ip("127.0.0.1"))
        #expect(IPAddress.lenientIPv4("169.254.43518") == EndpointPolicyTests.ip("169.254.169.254"))
        #expect(IPAddress.lenientIPv4("10.0.0.1.") == EndpointPolicyTests.ip("10.0.0.1"), "a trailing dot")
        for bad in ["256.0.0.1", "1.2.3.256", "1.16777216", "4294967296", "08.0.0.1", "0xg.0.0.1", "1.2.3.4.5", ""] {
            #expect(IPAddress.lenientIPv4(bad) == nil, "\(bad)")
        }
    }

    @Test func blocksHaveExactEdges() {
        let b = IPBlock("10.0.0.0/8")!
        #expect(b.contains(EndpointPolicyTests.ip("10.0.0.0")) && b.contains(EndpointPolicyTests.ip("10.255.255.255")))
        #expect(!b.contains(EndpointPolicyTests.ip("9.255.255.255")) && !b.contains(EndpointPolicyTests.ip("11.0.0.0")))
        let odd = IPBlock("172.16.0.0/12")!
        #expect(odd.contains(EndpointPolicyTests.ip("172.31.255.255")) && !odd.contains(EndpointPolicyTests.ip("172.32.0.0")))
        #expect(!odd.contains(EndpointPolicyTests.ip("172.15.255.255")))
        let one = IPBlock("192.168.1.20/32")!
        #expect(one.contains(EndpointPolicyTests.ip("192.168.1.20")) && !one.contains(EndpointPolicyTests.ip("192.168.1.21")))
        #expect(IPBlock("0.0.0.0/0")!.contains(EndpointPolicyTests.ip("8.8.8.8")))
        #expect(!IPBlock("0.0.0.0/0")!.contains(EndpointPolicyTests.ip("2001:db8::1")), "an IPv4 block holds no IPv6 address")
        let v6 = IPBlock("fe80::/10")!
        #expect(v6.contains(EndpointPolicyTests.ip("febf:ffff::1")) && !v6.contains(EndpointPolicyTests.ip("fec0::1")))
        #expect(IPBlock("10.0.0.0/8")!.contains(EndpointPolicyTests.ip("::ffff:10.1.2.3")), "a mapped address is its IPv4 address")
        #expect(IPBlock("[::1]/128")!.contains(EndpointPolicyTests.ip("::1")))
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "::/129", "10.0.0/8", "10.0.0.0/8/8", "10.0.0.0/08x"] {
            #expect(IPBlock(bad) == nil, "\(bad)")
        }
        #expect(IPBlock("10.1.2.3/8")!.isCanonical == false)
        #expect(IPBlock("10.1.2.3/8")!.network.description == "10.0.0.0/8")
    }

    @Test func theDefaultAllowsPublicAddressesOnly() {
        let p = EndpointPolicy.publicOnly
        for ok in ["8.8.8.8", "93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
                   "100.63.255.255", "100.128.0.0", "172.32.0.1", "11.0.0.1", "169.253.255.255", "223.255.255.255"] {
            #expect(p.allows(EndpointPolicyTests.ip(ok)), "\(ok)")
        }
        for refused in ["127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254",
                        "169.254.0.1", "0.0.0.0", "0.1.2.3", "100.64.0.1", "100.127.255.255", "224.0.0.1", "239.255.255.250",
                        "255.255.255.255", "240.0.0.1", "192.0.2.1", "198.51.100.7", "203.0.113.9", "198.18.0.1",
                        "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1", "2001:db8::1", "2001::1", "100::1",
                        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::ffff:0.0.0.0", "64:ff9b::a9fe:a9fe",
                        "64:ff9b::7f00:1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "::127.0.0.1", "64:ff9b:1::1", "3fff::1", "4000::1"] {
            #expect(!p.allows(EndpointPolicyTests.ip(refused)), "\(refused)")
        }
        #expect(EndpointPolicyTests.ip("169.254.169.254").specialRange?.english.contains("metadata") == true)
        #expect(EndpointPolicyTests.ip("::ffff:169.254.169.254").specialRange?.block.description == "169.254.0.0/16")
    }

    @Test func theSettingIsParsed() throws {
        #expect(try EndpointPolicy([]) == .publicOnly)
        #expect(try EndpointPolicy(setting: "") == .publicOnly)
        #expect(try EndpointPolicy(setting: " , ") == .publicOnly)
        #expect(try EndpointPolicy(setting: "none") == .refusingAll)
        let p = try EndpointPolicy(setting: " public, Hooks.Example.ORG. ,*.clinica.lan,10.0.0.0/8 ,192.168.1.20, fd00::/8,[::1],::ffff:127.0.0.0/104")
        #expect(p.entries == [.publicAddresses, .host("hooks.example.org"), .domain("clinica.lan"), .block(IPBlock("10.0.0.0/8")!),
                              .block(IPBlock("192.168.1.20/32")!), .block(IPBlock("fd00::/8")!), .block(IPBlock("::1/128")!),
                              .block(IPBlock("127.0.0.0/8")!)])
        #expect(p.description == "public,hooks.example.org,*.clinica.lan,10.0.0.0/8,192.168.1.20/32,fd00::/8,::1/128,127.0.0.0/8")
        #expect(try EndpointPolicy(["127.0.0.1/32", "localhost,hooks.example.org"]).entries.count == 3, "repeated flags and commas")
    }

    @Test func aMalformedSettingSaysWhichEntryAndWhy() {
        let cases: [(String, String, String)] = [
            ("public,https://hooks.example.org/", "https://hooks.example.org/", "not a URL"),
            ("10.0.0.0/33", "10.0.0.0/33", "prefix length"),
            ("10.1.2.3/8", "10.1.2.3/8", "did you mean 10.0.0.0/8"),
            ("hooks.example.org:8443", "hooks.example.org:8443", "port"),
            ("*", "*", "use 'public'"),
            ("*.", "*.", "wildcard domain"),
            ("a.*.org", "a.*.org", "not a host name"),
            ("none,public", "none", "cannot be combined"),
            ("010.0.0.1", "010.0.0.1", "not an IP address"),
            ("999.1.1.1", "999.1.1.1", "not an IP address"),
            ("hooks_1.example.org", "hooks_1.example.org", "not a host name"),
            ("-bad.example.org", "-bad.example.org", "not a host name"),
            ("fe80::1%eth0", "fe80::1%eth0", "not an IP address")
        ]
        for (setting, entry, why) in cases {
            do {
                _ = try EndpointPolicy(setting: setting)
                Issue.record("\(setting) was accepted")
            } catch let e as EndpointPolicy.SettingError {
                #expect(e.entry == entry, "\(setting): \(e)")
                #expect(e.english.contains(why), "\(setting): \(e.english)")
                #expect(!e.spanish.isEmpty && e.description.contains("ENLACE_SUBSCRIPTION_ENDPOINTS"))
            } catch {
                Issue.record("\(setting): \(error)")
            }
        }
    }

    @Test func endpointsAreCheckedFromTheURL() throws {
        let p = EndpointPolicy.publicOnly
        #expect(p.check(endpoint: "https://hooks.example.org/x") == .resolve("hooks.example.org"))
        #expect(p.check(endpoint: "https://HOOKS.example.org./x") == .resolve("hooks.example.org"))
        #expect(p.check(endpoint: "http://93.184.216.34:8080/hook") == .allowed)
        #expect(p.check(endpoint: "http://[2606:4700:4700::1111]/hook") == .allowed)
        for refused in ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:5432/", "http://[::1]/", "http://[::ffff:169.254.169.254]/",
                        "http://[::ffff:a9fe:a9fe]/", "http://2130706433/", "http://0x7f.1/", "http://127.1/", "http://0/", "http://localhost:8080/",
                        "http://api.localhost/", "http://10.0.0.5/", "http://user:pw@192.168.1.1/", "http://[fe80::1]/", "http://999.0.0.1/",
                        "http://[0:0:0:0:0:ffff:127.0.0.1]/"] {
            #expect(isRefused(p.check(endpoint: refused)), "\(refused)")
        }
        guard case .refused(let en, let es) = p.check(endpoint: "http://169.254.169.254/latest/meta-data/") else { return }
        #expect(en.contains("169.254.169.254") && en.contains("link-local") && en.contains("ENLACE_SUBSCRIPTION_ENDPOINTS"), "\(en)")
        #expect(es.contains("enlace local"), "\(es)")
    }

    @Test func whatTheOperatorListsIsAllowed() throws {
        let local = try EndpointPolicy(setting: "127.0.0.1/32")
        #expect(local.check(endpoint: "http://127.0.0.1:9000/hook") == .allowed)
        #expect(local.check(endpoint: "http://[::ffff:127.0.0.1]:9000/hook") == .allowed, "the mapped form of a listed address")
        #expect(isRefused(local.check(endpoint: "http://127.0.0.2/")), "only the block")
        #expect(isRefused(local.check(endpoint: "http://93.184.216.34/")), "a list without 'public' allows no public address")
        #expect(isRefused(local.check(endpoint: "http://localhost/")), "localhost is also ::1, which is not listed")
        #expect(local.check(endpoint: "https://hooks.example.org/") == .resolve("hooks.example.org"), "may resolve to 127.0.0.1")
        #expect(isRefused(local.check(addresses: [EndpointPolicyTests.ip("93.184.216.34")], of: "hooks.example.org")))
        #expect(local.check(addresses: [EndpointPolicyTests.ip("127.0.0.1")], of: "hooks.example.org") == .allowed)

        let names = try EndpointPolicy(setting: "localhost,hooks.example.org,*.clinica.lan")
        #expect(names.check(endpoint: "http://localhost:8080/") == .allowed)
        #expect(names.check(endpoint: "https://hooks.example.org/") == .allowed)
        #expect(names.check(endpoint: "https://ehr.sede1.clinica.lan/") == .allowed)
        #expect(isRefused(names.check(endpoint: "https://clinica.lan/")), "a wildcard does not cover its apex")
        #expect(isRefused(names.check(endpoint: "https://evilclinica.lan/")))
        #expect(isRefused(names.check(endpoint: "https://other.example.org/")), "only names listed, and none resolves to an allowed address")
        #expect(isRefused(names.check(endpoint: "http://127.0.0.1/")), "the name localhost, not the address")

        let lan = try EndpointPolicy(setting: "public,192.168.1.20")
        #expect(lan.check(endpoint: "http://192.168.1.20:8080/hook") == .allowed)
        #expect(isRefused(lan.check(endpoint: "http://192.168.1.21/")))
        #expect(lan.check(endpoint: "http://8.8.8.8/") == .allowed)

        #expect(isRefused(EndpointPolicy.refusingAll.check(endpoint: "https://hooks.example.org/")))
        #expect(isRefused(EndpointPolicy.refusingAll.check(endpoint: "http://8.8.8.8/")))
    }

    /// DNS rebinding: one refused address among those a name resolves to is enough.
    @Test func everyResolvedAddressMustBeAllowed() {
        let p = EndpointPolicy.publicOnly
        #expect(p.check(addresses: [EndpointPolicyTests.ip("93.184.216.34"), EndpointPolicyTests.ip("2606:2800:220:1::1")], of: "a.example") == .allowed)
        #expect(isRefused(p.check(addresses: [EndpointPolicyTests.ip("93.184.216.34"), EndpointPolicyTests.ip("10.0.0.1")], of: "a.example")))
        #expect(isRefused(p.check(addresses: [EndpointPolicyTests.ip("::ffff:127.0.0.1")], of: "a.example")))
        #expect(isRefused(p.check(addresses: [], of: "a.example")))
        guard case .refused(let en, _) = p.check(addresses: [EndpointPolicyTests.ip("10.0.0.1")], of: "a.example") else { return }
        #expect(en.contains("a.example (10.0.0.1)") && en.contains("private"), "\(en)")
    }

    @Test func theSystemResolverResolvesLocalhostAndNumbers() async throws {
        let local = try await HostResolver.addresses(of: "localhost")
        #expect(!local.isEmpty && local.allSatisfy { IPBlock("127.0.0.0/8")!.contains($0) || $0 == EndpointPolicyTests.ip("::1") }, "\(local)")
        #expect(try await HostResolver.addresses(of: "2130706433") == [EndpointPolicyTests.ip("127.0.0.1")], "getaddrinfo reads what inet_aton reads")
        await #expect(throws: HostResolver.Failure.self) { _ = try await HostResolver.addresses(of: "no-such-host.invalid") }
    }
}
