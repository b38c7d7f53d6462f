import Testing
@testable import Trust

// MARK: - Helpers

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var out = ""
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0x0f)])
    }
    return out
}

private func unhex(_ s: String) -> [UInt8] {
    let chars = Array(s.utf8)
    precondition(chars.count % 2 == 0)
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: preconditionFailure("not hex")
        }
    }
    return stride(from: 0, to: chars.count, by: 2).map { nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
}

/// `proof` with element `e` replaced by `value`.
private func replacing(_ proof: [[UInt8]], _ e: Int, with value: [UInt8]) -> [[UInt8]] {
    var copy = proof
    copy[e] = value
    return copy
}

/// Every value of `range` when `exhaustive`, otherwise its ends, the neighbours of `around`, and a few between.
private func candidates(_ range: ClosedRange<Int>, around: Int, exhaustive: Bool) -> [Int] {
    if exhaustive || range.count <= 12 { return Array(range) }
    let step = max(1, range.count / 6)
    let picks = [range.lowerBound, range.upperBound, around - 2, around - 1, around + 1, around + 2]
        + Array(stride(from: range.lowerBound, through: range.upperBound, by: step))
    return Array(Set(picks.filter { range.contains($0) })).sorted()
}

private func flipped(_ bytes: [UInt8], at i: Int, mask: UInt8 = 0x01) -> [UInt8] {
    var copy = bytes
    copy[i] ^= mask
    return copy
}

// MARK: - Published vectors
//
// The Certificate Transparency reference data used by RFC 6962 / RFC 9162 implementations, as published in
// transparency-dev/merkle (successor of google/certificate-transparency-go's merkle package):
// `testonly/constants.go` (LeafInputs, NodeHashes, RootHashes) and `proof/verify_test.go`
// (inclusionProofs, consistencyProofs — there with 1-based leaf numbers; converted to 0-based indices here).

enum CT {
    static let leaves: [[UInt8]] = [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ].map(unhex)

    /// Roots for tree sizes 0 ... 8.
    static let roots: [String] = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    /// Hashes of all complete subtrees, by level (0 = leaf hashes), left to right.
    static let nodeHashes: [[String]] = [
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
            "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
        ],
        [
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        ],
        [
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
        ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
    ]

    struct InclusionVector: Sendable, CustomTestStringConvertible {
        let index: Int, size: Int, proof: [String]
        var testDescription: String { "PATH(\(index), D[\(size)])" }
    }

    static let inclusion: [InclusionVector] = [
        .init(index: 0, size: 1, proof: []),
        .init(index: 0, size: 8, proof: [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ]),
        .init(index: 5, size: 8, proof: [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ]),
        .init(index: 2, size: 3, proof: [
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        ]),
        .init(index: 1, size: 5, proof: [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ]),
    ]

    struct ConsistencyVector: Sendable, CustomTestStringConvertible {
        let first: Int, second: Int, proof: [String]
        var testDescription: String { "PROOF(\(first), D[\(second)])" }
    }

    static let consistency: [ConsistencyVector] = [
        .init(first: 1, second: 1, proof: []),
        .init(first: 1, second: 8, proof: [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ]),
        .init(first: 6, second: 8, proof: [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ]),
        .init(first: 2, second: 5, proof: [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ]),
        .init(first: 6, second: 7, proof: [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ]),
    ]

    static var leafHashes: [[UInt8]] { leaves.map(MerkleTree.leafHash) }
    static var log: MerkleLog { MerkleLog(leafHashes: leafHashes) }
}

// MARK: - Naive reference, straight from the RFC's recursive definitions (RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1)
//
// Deliberately independent of the implementation under test: whole arrays, no caching, no shared helpers —
// only the two hash primitives, which the published vectors pin down on their own.

private enum Naive {
    /// Largest power of two strictly less than n, by doubling.
    static func k(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }

    /// MTH(D[n]) over leaf hashes.
    static func mth(_ d: [[UInt8]]) -> [UInt8] {
        let n = d.count
        if n == 0 { return unhex(CT.roots[0]) }
        if n == 1 { return d[0] }
        let k = k(n)
        return MerkleTree.nodeHash(mth(Array(d[0..<k])), mth(Array(d[k..<n])))
    }

    /// PATH(m, D[n]).
    static func path(_ m: Int, _ d: [[UInt8]]) -> [[UInt8]] {
        let n = d.count
        if n == 1 { return [] }
        let k = k(n)
        if m < k { return path(m, Array(d[0..<k])) + [mth(Array(d[k..<n]))] }
        return path(m - k, Array(d[k..<n])) + [mth(Array(d[0..<k]))]
    }

    /// PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    static func proof(_ m: Int, _ d: [[UInt8]]) -> [[UInt8]] { subproof(m, d, true) }

    static func subproof(_ m: Int, _ d: [[UInt8]], _ b: Bool) -> [[UInt8]] {
        let n = d.count
        if m == n { return b ? [] : [mth(d)] }
        let k = k(n)
        if m <= k { return subproof(m, Array(d[0..<k]), b) + [mth(Array(d[k..<n]))] }
        return subproof(m - k, Array(d[k..<n]), false) + [mth(Array(d[0..<k]))]
    }
}

/// 70 distinct leaf hashes for the exhaustive comparisons.
private let maxN = 70
private let syntheticLeafHashes: [[UInt8]] = (0..<maxN).map { i in
    MerkleTree.leafHash([UInt8(i), UInt8((i * 7) & 0xff), 0x42])
}

// MARK: - Tests

@Suite struct MerkleTreeTests {
    // (1) Published vectors.

    @Test func hashPrimitivesMatchPublishedNodeHashes() {
        let leafHashes = CT.leafHashes
        #expect(leafHashes.map(hex) == CT.nodeHashes[0])
        // Level h+1 node i = nodeHash(level h node 2i, level h node 2i+1).
        for level in 1..<CT.nodeHashes.count {
            let below = CT.nodeHashes[level - 1].map(unhex)
            let computed = stride(from: 0, to: below.count, by: 2).map { hex(MerkleTree.nodeHash(below[$0], below[$0 + 1])) }
            #expect(computed == CT.nodeHashes[level], "level \(level)")
        }
        #expect(hex(MerkleTree.emptyRoot) == CT.roots[0])
        #expect(hex(MerkleTree.leafHash([])) == CT.roots[1])
    }

    @Test func rootsMatchPublishedVectors() throws {
        let leafHashes = CT.leafHashes
        let log = CT.log
        #expect(log.size == 8)
        for size in 0...8 {
            #expect(hex(MerkleTree.root(leafHashes: Array(leafHashes.prefix(size)))) == CT.roots[size], "size \(size)")
            #expect(hex(try log.root(size: size)) == CT.roots[size], "size \(size)")
        }
        #expect(hex(log.root) == CT.roots[8])
        #expect(hex(MerkleLog().root) == CT.roots[0])
        // Cached complete-subtree hashes agree with the published node hashes.
        for (level, hashes) in CT.nodeHashes.enumerated() {
            for (i, expected) in hashes.enumerated() {
                #expect(hex(log.subtreeHash(start: i << level, count: 1 << level)) == expected)
            }
        }
    }

    @Test(arguments: CT.inclusion)
    func inclusionProofsMatchPublishedVectors(_ v: CT.InclusionVector) throws {
        let leafHashes = CT.leafHashes
        let expected = v.proof.map(unhex)
        let root = unhex(CT.roots[v.size])
        let leafHash = leafHashes[v.index]
        #expect(try CT.log.inclusionProof(index: v.index, treeSize: v.size) == expected)
        #expect(try MerkleTree.inclusionProof(index: v.index, leafHashes: leafHashes[0..<v.size]) == expected)
        #expect(MerkleTree.verifyInclusion(leafHash: leafHash, index: v.index, treeSize: v.size, proof: expected, root: root))

        // The corruptions transparency-dev/merkle checks for these vectors (proof/verify_test.go).
        let someHash = unhex("abacaba000000000000000000000000000000000000000000060061e00123456")
        let emptyRoot = unhex(CT.roots[0])
        var probes: [(String, Int, Int, [UInt8], [[UInt8]], [UInt8])] = [
            ("index - 1", v.index - 1, v.size, leafHash, expected, root),
            ("index + 1", v.index + 1, v.size, leafHash, expected, root),
            ("index ^ 2", v.index ^ 2, v.size, leafHash, expected, root),
            ("size * 2", v.index, v.size * 2, leafHash, expected, root),
            ("size / 2", v.index, v.size / 2, leafHash, expected, root),
            ("wrong leaf", v.index, v.size, Array("WrongLeaf".utf8), expected, root),
            ("wrong leaf hash", v.index, v.size, MerkleTree.leafHash(Array("WrongLeaf".utf8)), expected, root),
            ("empty root", v.index, v.size, leafHash, expected, emptyRoot),
            ("random root", v.index, v.size, leafHash, expected, someHash),
            ("trailing garbage", v.index, v.size, leafHash, expected + [[]], root),
            ("trailing root", v.index, v.size, leafHash, expected + [root], root),
            ("preceding garbage", v.index, v.size, leafHash, [[]] + expected, root),
            ("preceding root", v.index, v.size, leafHash, [root] + expected, root),
        ]
        for i in expected.indices {
            var wrong = expected
            wrong[i] = flipped(wrong[i], at: 0, mask: 8)
            probes.append(("modified proof[\(i)] bit 3", v.index, v.size, leafHash, wrong, root))
        }
        if !expected.isEmpty {
            probes.append(("removed component", v.index, v.size, leafHash, Array(expected.dropLast()), root))
        }
        if expected.count > 1 {
            probes.append(("inserted component", v.index, v.size, leafHash, [expected[0], someHash] + expected.dropFirst(), root))
        }
        for (desc, index, size, leaf, proof, root) in probes {
            #expect(!MerkleTree.verifyInclusion(leafHash: leaf, index: index, treeSize: size, proof: proof, root: root), "\(desc)")
        }
    }

    @Test(arguments: CT.consistency)
    func consistencyProofsMatchPublishedVectors(_ v: CT.ConsistencyVector) throws {
        let leafHashes = CT.leafHashes
        let expected = v.proof.map(unhex)
        let root1 = unhex(CT.roots[v.first])
        let root2 = unhex(CT.roots[v.second])
        #expect(try CT.log.consistencyProof(first: v.first, second: v.second) == expected)
        #expect(try MerkleTree.consistencyProof(first: v.first, leafHashes: leafHashes[0..<v.second]) == expected)
        #expect(MerkleTree.verifyConsistency(first: v.first, second: v.second, firstRoot: root1, secondRoot: root2, proof: expected))
        guard !expected.isEmpty else { return }

        // The corruptions transparency-dev/merkle checks for these vectors (proof/verify_test.go).
        let wrongRoot = Array("WrongRoot".utf8)
        var probes: [(String, Int, Int, [UInt8], [UInt8], [[UInt8]])] = [
            ("first - 1", v.first - 1, v.second, root1, root2, expected),
            ("first + 1", v.first + 1, v.second, root1, root2, expected),
            ("first ^ 2", v.first ^ 2, v.second, root1, root2, expected),
            ("second * 2", v.first, v.second * 2, root1, root2, expected),
            ("second / 2", v.first, v.second / 2, root1, root2, expected),
            ("wrong root1", v.first, v.second, wrongRoot, root2, expected),
            ("wrong root2", v.first, v.second, root1, wrongRoot, expected),
            ("wrong root1 hash", v.first, v.second, flipped(root1, at: 31), root2, expected),
            ("wrong root2 hash", v.first, v.second, root1, flipped(root2, at: 31), expected),
            ("swapped roots", v.first, v.second, root2, root1, expected),
            ("empty proof", v.first, v.second, root1, root2, []),
            ("trailing garbage", v.first, v.second, root1, root2, expected + [[]]),
            ("trailing root1", v.first, v.second, root1, root2, expected + [root1]),
            ("trailing root2", v.first, v.second, root1, root2, expected + [root2]),
            ("preceding garbage", v.first, v.second, root1, root2, [[]] + expected),
            ("preceding root1", v.first, v.second, root1, root2, [root1] + expected),
            ("preceding root2", v.first, v.second, root1, root2, [root2] + expected),
            ("preceding proof[0]", v.first, v.second, root1, root2, [expected[0]] + expected),
            ("truncated proof", v.first, v.second, root1, root2, Array(expected.dropLast())),
        ]
        for i in expected.indices {
            var wrong = expected
            wrong[i] = flipped(wrong[i], at: 0, mask: 16)
            probes.append(("modified proof[\(i)] bit 4", v.first, v.second, root1, root2, wrong))
        }
        for (desc, first, second, r1, r2, proof) in probes {
            #expect(!MerkleTree.verifyConsistency(first: first, second: second, firstRoot: r1, secondRoot: r2, proof: proof), "\(desc)")
        }
    }

    // (2) Agreement with the naive RFC recursion for every (m, n), 1 ≤ m ≤ n ≤ 70, and every index < n.

    @Test func agreesWithNaiveRecursionUpTo70() throws {
        let all = syntheticLeafHashes
        let log = MerkleLog(leafHashes: all)
        #expect(log.size == maxN)
        var mismatches: [String] = []
        var checked = 0
        for n in 1...maxN {
            let d = Array(all[0..<n])
            let root = Naive.mth(d)
            if try log.root(size: n) != root { mismatches.append("root(\(n))") }
            if MerkleTree.root(leafHashes: d) != root { mismatches.append("static root(\(n))") }
            for index in 0..<n {
                let expected = Naive.path(index, d)
                if try log.inclusionProof(index: index, treeSize: n) != expected { mismatches.append("PATH(\(index), \(n))") }
                if try MerkleTree.inclusionProof(index: index, leafHashes: all[0..<n]) != expected {
                    mismatches.append("static PATH(\(index), \(n))")
                }
                if !MerkleTree.verifyInclusion(leafHash: d[index], index: index, treeSize: n, proof: expected, root: root) {
                    mismatches.append("verify PATH(\(index), \(n))")
                }
                checked += 1
            }
            for m in 1...n {
                let expected = Naive.proof(m, d)
                if try log.consistencyProof(first: m, second: n) != expected { mismatches.append("PROOF(\(m), \(n))") }
                if try MerkleTree.consistencyProof(first: m, leafHashes: all[0..<n]) != expected {
                    mismatches.append("static PROOF(\(m), \(n))")
                }
                if !MerkleTree.verifyConsistency(first: m, second: n, firstRoot: Naive.mth(Array(d[0..<m])), secondRoot: root, proof: expected) {
                    mismatches.append("verify PROOF(\(m), \(n))")
                }
                checked += 1
            }
        }
        #expect(checked == 2 * (maxN * (maxN + 1) / 2))
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20))")
    }

    @Test func staticFunctionsAcceptSlicesNotStartingAtZero() throws {
        let all = syntheticLeafHashes
        let slice = all[5..<26]
        let rebased = Array(slice)
        #expect(MerkleTree.root(leafHashes: slice) == Naive.mth(rebased))
        for i in 0..<rebased.count {
            #expect(try MerkleTree.inclusionProof(index: i, leafHashes: slice) == Naive.path(i, rebased))
        }
        for m in 1...rebased.count {
            #expect(try MerkleTree.consistencyProof(first: m, leafHashes: slice) == Naive.proof(m, rebased))
        }
    }

    // (3) Every proof verifies; any tampering, or the wrong index, size or root, fails.

    @Test func tamperedInclusionProofsFail() throws {
        let all = syntheticLeafHashes
        let log = MerkleLog(leafHashes: all)
        let roots = try (0...maxN).map { try log.root(size: $0) }
        let proofs: [[[[UInt8]]]] = try (0...maxN).map { n in try (0..<n).map { try log.inclusionProof(index: $0, treeSize: n) } }
        var failures: [String] = []
        func verify(_ leaf: [UInt8], _ i: Int, _ n: Int, _ p: [[UInt8]], _ r: [UInt8]) -> Bool {
            MerkleTree.verifyInclusion(leafHash: leaf, index: i, treeSize: n, proof: p, root: r)
        }
        for n in 1...maxN {
            for i in 0..<n {
                let proof = proofs[n][i]
                let root = roots[n]
                let leaf = all[i]
                let tag = "(\(i), \(n))"
                if !verify(leaf, i, n, proof, root) { failures.append("valid \(tag)") }
                // Any byte of any element flipped (every byte up to n = 32, first/middle/last byte beyond).
                for e in proof.indices {
                    for byte in (n <= 32 ? Array(0..<32) : [0, 15, 31]) where verify(leaf, i, n, replacing(proof, e, with: flipped(proof[e], at: byte)), root) {
                        failures.append("flipped element \(e) byte \(byte) \(tag)")
                    }
                }
                // Any other index, in range or not.
                for j in [-1, n, n + 1, Int.max, Int.min] + candidates(0...(n - 1), around: i, exhaustive: n <= 24) where j != i && verify(leaf, j, n, proof, root) {
                    failures.append("index \(j) \(tag)")
                }
                // Wrong leaf.
                if verify(flipped(leaf, at: 0), i, n, proof, root) { failures.append("leaf \(tag)") }
                if n > 1, verify(all[(i + 1) % n], i, n, proof, root) { failures.append("other leaf \(tag)") }
                // Wrong root: tampered, or another size's.
                if verify(leaf, i, n, proof, flipped(root, at: 31)) { failures.append("root \(tag)") }
                for other in candidates(0...maxN, around: n, exhaustive: n <= 24) where other != n && verify(leaf, i, n, proof, roots[other]) {
                    failures.append("root of \(other) \(tag)")
                }
                // Wrong size, checked against that size's own root: passes only if the proofs coincide.
                for other in [0, -1, Int.max] where verify(leaf, i, other, proof, root) {
                    failures.append("size \(other) \(tag)")
                }
                for other in candidates((i + 1)...maxN, around: n, exhaustive: n <= 24) where other != n {
                    if verify(leaf, i, other, proof, roots[other]) != (proofs[other][i] == proof) {
                        failures.append("size \(other) with its root \(tag)")
                    }
                }
                // Proof with an element removed, added or prepended.
                if !proof.isEmpty, verify(leaf, i, n, Array(proof.dropLast()), root) { failures.append("truncated \(tag)") }
                if !proof.isEmpty, verify(leaf, i, n, Array(proof.dropFirst()), root) { failures.append("dropped first \(tag)") }
                if verify(leaf, i, n, proof + [root], root) { failures.append("extended \(tag)") }
                if verify(leaf, i, n, [leaf] + proof, root) { failures.append("prepended \(tag)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20))")
    }

    @Test func tamperedConsistencyProofsFail() throws {
        let all = syntheticLeafHashes
        let log = MerkleLog(leafHashes: all)
        let roots = try (0...maxN).map { try log.root(size: $0) }
        // proofs[n][m] = PROOF(m, D[n]) for 1 ≤ m ≤ n (index 0 unused).
        let proofs: [[[[UInt8]]]] = try (0...maxN).map { n in
            try (0...n).map { m in m == 0 ? [] : try log.consistencyProof(first: m, second: n) }
        }
        var failures: [String] = []
        func verify(_ m: Int, _ n: Int, _ r1: [UInt8], _ r2: [UInt8], _ p: [[UInt8]]) -> Bool {
            MerkleTree.verifyConsistency(first: m, second: n, firstRoot: r1, secondRoot: r2, proof: p)
        }
        for n in 1...maxN {
            for m in 1...n {
                let proof = proofs[n][m]
                let r1 = roots[m], r2 = roots[n]
                let tag = "(\(m), \(n))"
                if !verify(m, n, r1, r2, proof) { failures.append("valid \(tag)") }
                for e in proof.indices {
                    for byte in (n <= 32 ? Array(0..<32) : [0, 15, 31]) where verify(m, n, r1, r2, replacing(proof, e, with: flipped(proof[e], at: byte))) {
                        failures.append("flipped element \(e) byte \(byte) \(tag)")
                    }
                }
                // Wrong roots.
                if verify(m, n, flipped(r1, at: 0), r2, proof) { failures.append("first root \(tag)") }
                if verify(m, n, r1, flipped(r2, at: 0), proof) { failures.append("second root \(tag)") }
                if m != n, verify(m, n, r2, r1, proof) { failures.append("swapped roots \(tag)") }
                for other in candidates(0...maxN, around: m, exhaustive: n <= 24) where other != m && verify(m, n, roots[other], r2, proof) {
                    failures.append("first root of \(other) \(tag)")
                }
                for other in candidates(0...maxN, around: n, exhaustive: n <= 24) where other != n && verify(m, n, r1, roots[other], proof) {
                    failures.append("second root of \(other) \(tag)")
                }
                // Wrong sizes, each with its own correct root: passes only if the proofs coincide.
                for other in candidates(1...n, around: m, exhaustive: n <= 24) where other != m {
                    if verify(other, n, roots[other], r2, proof) != (proofs[n][other] == proof) {
                        failures.append("first \(other) with its root \(tag)")
                    }
                }
                for other in candidates(m...maxN, around: n, exhaustive: n <= 24) where other != n {
                    if verify(m, other, r1, roots[other], proof) != (proofs[other][m] == proof) {
                        failures.append("second \(other) with its root \(tag)")
                    }
                }
                for (first, second) in [(0, n), (-1, n), (n + 1, n), (m, m - 1), (m, -1), (Int.min, n), (m, Int.max)]
                    where verify(first, second, r1, r2, proof) {
                    failures.append("sizes (\(first), \(second)) \(tag)")
                }
                // Elements removed, added or prepended.
                if !proof.isEmpty, verify(m, n, r1, r2, Array(proof.dropLast())) { failures.append("truncated \(tag)") }
                if !proof.isEmpty, verify(m, n, r1, r2, Array(proof.dropFirst())) { failures.append("dropped first \(tag)") }
                if verify(m, n, r1, r2, proof + [r2]) { failures.append("extended \(tag)") }
                if verify(m, n, r1, r2, [r1] + proof) { failures.append("prepended \(tag)") }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(20))")
    }

    // (4) Edge cases.

    @Test func equalSizesGiveTheEmptyConsistencyProof() throws {
        let log = MerkleLog(leafHashes: syntheticLeafHashes)
        for n in 1...maxN {
            let proof = try log.consistencyProof(first: n, second: n)
            #expect(proof.isEmpty)
            #expect(try MerkleTree.consistencyProof(first: n, leafHashes: syntheticLeafHashes[0..<n]).isEmpty)
            let root = try log.root(size: n)
            #expect(MerkleTree.verifyConsistency(first: n, second: n, firstRoot: root, secondRoot: root, proof: []))
            #expect(!MerkleTree.verifyConsistency(first: n, second: n, firstRoot: root, secondRoot: flipped(root, at: 0), proof: []))
            #expect(!MerkleTree.verifyConsistency(first: n, second: n, firstRoot: root, secondRoot: root, proof: [root]))
        }
    }

    @Test func firstSizeZeroIsRejected() throws {
        let log = MerkleLog(leafHashes: syntheticLeafHashes.prefix(8))
        #expect(throws: MerkleTreeError.firstSizeOutOfRange(first: 0, second: 8)) { try log.consistencyProof(first: 0, second: 8) }
        #expect(throws: MerkleTreeError.firstSizeOutOfRange(first: 0, second: 0)) { try log.consistencyProof(first: 0, second: 0) }
        #expect(throws: MerkleTreeError.firstSizeOutOfRange(first: -1, second: 8)) { try log.consistencyProof(first: -1, second: 8) }
        #expect(throws: MerkleTreeError.firstSizeOutOfRange(first: 0, second: 8)) {
            try MerkleTree.consistencyProof(first: 0, leafHashes: syntheticLeafHashes[0..<8])
        }
        #expect(throws: MerkleTreeError.firstSizeOutOfRange(first: 0, second: 0)) {
            try MerkleTree.consistencyProof(first: 0, leafHashes: [])
        }
        let empty = MerkleTree.emptyRoot
        let root8 = log.root
        #expect(!MerkleTree.verifyConsistency(first: 0, second: 8, firstRoot: empty, secondRoot: root8, proof: []))
        #expect(!MerkleTree.verifyConsistency(first: 0, second: 0, firstRoot: empty, secondRoot: empty, proof: []))
    }

    @Test func outOfRangeArgumentsAreRejectedWithoutCrashing() throws {
        let log = MerkleLog(leafHashes: syntheticLeafHashes.prefix(8))
        for index in [-1, 8, 9, Int.max, Int.min] {
            #expect(throws: MerkleTreeError.indexOutOfRange(index: index, treeSize: 8)) { try log.inclusionProof(index: index, treeSize: 8) }
            #expect(throws: MerkleTreeError.indexOutOfRange(index: index, treeSize: 8)) {
                try MerkleTree.inclusionProof(index: index, leafHashes: syntheticLeafHashes[0..<8])
            }
            #expect(!MerkleTree.verifyInclusion(leafHash: syntheticLeafHashes[0], index: index, treeSize: 8, proof: [], root: log.root))
        }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 5, treeSize: 5)) { try log.inclusionProof(index: 5, treeSize: 5) }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 0, treeSize: 0)) { try log.inclusionProof(index: 0, treeSize: 0) }
        #expect(throws: MerkleTreeError.indexOutOfRange(index: 0, treeSize: 0)) { try MerkleTree.inclusionProof(index: 0, leafHashes: []) }
        #expect(throws: MerkleTreeError.treeSizeOutOfRange(treeSize: 9, available: 8)) { try log.inclusionProof(index: 0, treeSize: 9) }
        #expect(throws: MerkleTreeError.treeSizeOutOfRange(treeSize: -1, available: 8)) { try log.inclusionProof(index: 0, treeSize: -1) }
        #expect(throws: MerkleTreeError.treeSizeOutOfRange(treeSize: 9, available: 8)) { try log.consistencyProof(first: 1, second: 9) }
        #expect(throws: MerkleTreeError.treeSizeOutOfRange(treeSize: Int.max, available: 8)) { try log.consistencyProof(first: 1, second: Int.max) }
        #expect(throws: MerkleTreeError.firstSizeOutOfRange(first: 6, second: 5)) { try log.consistencyProof(first: 6, second: 5) }
        #expect(throws: MerkleTreeError.treeSizeOutOfRange(treeSize: 9, available: 8)) { try log.root(size: 9) }
        #expect(throws: MerkleTreeError.treeSizeOutOfRange(treeSize: -1, available: 8)) { try log.root(size: -1) }
        #expect(log.leafHash(at: 8) == nil)
        #expect(log.leafHash(at: -1) == nil)
        #expect(log.leafHash(at: 7) == syntheticLeafHashes[7])
        // Verification of sizes 0 and negatives simply fails.
        #expect(!MerkleTree.verifyInclusion(leafHash: syntheticLeafHashes[0], index: 0, treeSize: 0, proof: [], root: MerkleTree.emptyRoot))
        #expect(!MerkleTree.verifyInclusion(leafHash: syntheticLeafHashes[0], index: 0, treeSize: -5, proof: [], root: syntheticLeafHashes[0]))
    }

    @Test func malformedHashesDoNotVerify() {
        // A 1-leaf tree has an empty path and its root is the leaf hash; values that are not hashes must not pass.
        let h = MerkleTree.leafHash(Array("data".utf8))
        #expect(MerkleTree.verifyInclusion(leafHash: h, index: 0, treeSize: 1, proof: [], root: h))
        #expect(!MerkleTree.verifyInclusion(leafHash: [], index: 0, treeSize: 1, proof: [], root: []))
        #expect(!MerkleTree.verifyInclusion(leafHash: h, index: 0, treeSize: 1, proof: [], root: []))
        #expect(!MerkleTree.verifyInclusion(leafHash: [], index: 0, treeSize: 1, proof: [], root: h))
        #expect(!MerkleTree.verifyConsistency(first: 1, second: 1, firstRoot: [1, 2], secondRoot: [1, 2], proof: []))
    }

    // The incremental structure at a larger size: roots and proofs of arbitrary prefixes agree with recomputation.

    @Test func largeLogAgreesWithRecomputation() throws {
        let count = 5_000
        var log = MerkleLog()
        var leafHashes: [[UInt8]] = []
        leafHashes.reserveCapacity(count)
        for i in 0..<count {
            let entry = [UInt8(i & 0xff), UInt8((i >> 8) & 0xff), 0x17]
            log.append(entry: entry)
            leafHashes.append(MerkleTree.leafHash(entry))
        }
        #expect(log.size == count)
        #expect(log.root == MerkleTree.root(leafHashes: leafHashes))
        let snapshot = log // value semantics: later appends don't change it
        log.append(entry: [1, 2, 3])
        #expect(snapshot.size == count && log.size == count + 1)
        #expect(snapshot.root == MerkleTree.root(leafHashes: leafHashes))
        for (m, n) in [(1, count), (1000, 4096), (4096, 4097), (1023, 1025), (2047, 4999), (3333, count)] {
            let prefix = leafHashes[0..<n]
            let root = try log.root(size: n)
            #expect(root == MerkleTree.root(leafHashes: prefix))
            let proof = try log.consistencyProof(first: m, second: n)
            #expect(proof == (try MerkleTree.consistencyProof(first: m, leafHashes: prefix)))
            #expect(MerkleTree.verifyConsistency(first: m, second: n, firstRoot: try log.root(size: m), secondRoot: root, proof: proof))
            let index = m - 1
            let path = try log.inclusionProof(index: index, treeSize: n)
            #expect(path == (try MerkleTree.inclusionProof(index: index, leafHashes: prefix)))
            #expect(MerkleTree.verifyInclusion(leafHash: leafHashes[index], index: index, treeSize: n, proof: path, root: root))
        }
    }
}
