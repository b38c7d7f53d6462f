import Foundation
@testable import Care
import Testing

/// The prescription code's QR Code (`QRCode`, ISO/IEC 18004 version 1-M): read back by an
/// independent small reader written here — the function patterns of a version 1 symbol, the
/// format bits against the standard's table, the Reed–Solomon syndromes of the 26 codewords, and
/// the alphanumeric payload — so a wrong placement, mask or error-correction code fails. (While
/// writing it, the symbol of `RX-DEM0-ANA0-0001` was also compared module by module with the one
/// the `segno` Python library makes for version 1-M, mask 0: identical.)
@Suite struct QRCodeTests {
    static let n = 21

    /// Function modules of a version 1 symbol: finders, separators and format areas in three
    /// corners, the timing row and column.
    static func isFunction(_ r: Int, _ c: Int) -> Bool {
        (r < 9 && c < 9) || (r < 9 && c >= 13) || (r >= 13 && c < 9) || r == 6 || c == 6
    }

    /// The codewords, read in the standard's order (two-column zigzag from the bottom right,
    /// column 6 skipped), unmasked with mask 0.
    static func codewords(_ m: [[Bool]]) -> [Int] {
        var bits: [Bool] = []
        var col = n - 1, upward = true
        while col > 0 {
            if col == 6 { col -= 1 }
            for k in 0..<n {
                let r = upward ? n - 1 - k : k
                for c in [col, col - 1] where !isFunction(r, c) { bits.append(m[r][c] != ((r + c) % 2 == 0)) }
            }
            upward.toggle()
            col -= 2
        }
        return stride(from: 0, to: bits.count - 7, by: 8).map { s in bits[s..<s + 8].reduce(0) { $0 << 1 | ($1 ? 1 : 0) } }
    }

    /// The payload of alphanumeric-mode data codewords.
    static func payload(_ data: [Int]) -> String? {
        let bits = data.flatMap { b in (0..<8).reversed().map { (b >> $0) & 1 == 1 } }
        var at = 0
        func read(_ count: Int) -> Int {
            defer { at += count }
            return bits[at..<at + count].reduce(0) { $0 << 1 | ($1 ? 1 : 0) }
        }
        guard read(4) == 0b0010 else { return nil }
        var left = read(9)
        var out = ""
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
        while left >= 2 {
            let v = read(11)
            out.append(alphabet[v / 45])
            out.append(alphabet[v % 45])
            left -= 2
        }
        if left == 1 { out.append(alphabet[read(6)]) }
        return out
    }

    /// Reed–Solomon syndromes: the codeword polynomial evaluated at α⁰…α⁹ (all zero when intact).
    static func syndromes(_ codewords: [Int]) -> [Int] {
        var alpha = 1
        var out: [Int] = []
        for _ in 0..<10 {
            var acc = 0
            for c in codewords { acc = QRCode.multiply(acc, alpha) ^ c }
            out.append(acc)
            alpha = QRCode.multiply(alpha, 2)
        }
        return out
    }

    @Test(arguments: ["RX-DEM0-ANA0-0001", "RX-7K2M-9QWX-H4TZ", "RX-0000-0000-0000", "A", "HELLO WORLD", "ABCDEFGHIJKLMNOPQRST"])
    func aSymbolReadsBackToItsText(_ text: String) throws {
        let qr = try #require(QRCode(text))
        let m = qr.modules
        #expect(m.count == Self.n && m.allSatisfy { $0.count == Self.n })
        // the three finder patterns
        for (r0, c0) in [(0, 0), (0, Self.n - 7), (Self.n - 7, 0)] {
            for r in 0..<7 {
                for c in 0..<7 {
                    let ring = max(abs(r - 3), abs(c - 3))
                    #expect(m[r0 + r][c0 + c] == (ring != 2), "finder at \(r0),\(c0)")
                }
            }
        }
        // timing patterns and the dark module
        for k in 8..<(Self.n - 8) { #expect(m[6][k] == (k % 2 == 0) && m[k][6] == (k % 2 == 0)) }
        #expect(m[Self.n - 8][8])
        // format bits, both copies: level M, mask 0 is 101010000010010 (ISO/IEC 18004 table C.1)
        var first = 0, second = 0
        let firstCopy = [(0, 8), (1, 8), (2, 8), (3, 8), (4, 8), (5, 8), (7, 8), (8, 8), (8, 7), (8, 5), (8, 4), (8, 3), (8, 2), (8, 1), (8, 0)]
        for (i, (r, c)) in firstCopy.enumerated() where m[r][c] { first |= 1 << i }
        let secondCopy = (0..<8).map { (8, Self.n - 1 - $0) } + (8..<15).map { (Self.n - 15 + $0, 8) }
        for (i, (r, c)) in secondCopy.enumerated() where m[r][c] { second |= 1 << i }
        #expect(first == 0b101010000010010 && second == first)
        // 26 codewords, intact, carrying the text
        let words = Self.codewords(m)
        #expect(words.count == 26)
        #expect(Self.syndromes(words) == Array(repeating: 0, count: 10))
        #expect(Self.payload(Array(words.prefix(16))) == text)
        // one module flipped in the data area is caught by the syndromes
        var broken = m
        broken[Self.n - 1][Self.n - 1].toggle()
        #expect(Self.syndromes(Self.codewords(broken)) != Array(repeating: 0, count: 10))
        #expect(qr.svg(label: "Código \(text)").hasPrefix("<svg class=\"qr\""))
    }

    @Test func whatDoesNotFitHasNoSymbol() {
        #expect(QRCode("") == nil)
        #expect(QRCode(String(repeating: "A", count: 21)) == nil)
        #expect(QRCode("rx-lowercase") == nil)
        #expect(QRCode("Ñ") == nil)
    }

    @Test func theFormatBitsFollowTheStandardsTable() {
        // ISO/IEC 18004 table C.1 (EC level M = 00): masks 0…7
        let expected = [0b101010000010010, 0b101000100100101, 0b101111001111100, 0b101101101001011,
                        0b100010111111001, 0b100000011001110, 0b100111110010111, 0b100101010100000]
        #expect((0..<8).map { QRCode.formatBits(level: 0, mask: $0) } == expected)
    }
}
