import Foundation

/// A QR Code (ISO/IEC 18004) of a prescription code, for *Mis recetas* (docs/prescribing.md#portal):
/// version 1 (21 × 21 modules), error correction level M, alphanumeric mode — enough for up to 20
/// characters of `0–9 A–Z space $ % * + - . / :`, and a prescription code (`RX-XXXX-XXXX-XXXX`,
/// 17 characters of Crockford base 32 and hyphens) is one. Written here from the standard
/// because the repository has no QR dependency; it draws only what it needs (one version, one
/// level, mask 0 — any of the eight masks is a valid symbol; the penalty rules only pick the
/// prettiest). No I/O.
public struct QRCode: Sendable, Equatable {
    /// `modules[row][column]`, true = dark.
    public let modules: [[Bool]]
    public static let size = 21
    public static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    static let dataCodewords = 16, ecCodewords = 10
    /// The format bits' EC level M (ISO/IEC 18004 table 12) and the mask used.
    static let levelM = 0, mask = 0

    /// The symbol of `text`, or nil when it does not fit (more than 20 characters, or a
    /// character outside the alphanumeric set).
    public init?(_ text: String) {
        let chars = Array(text)
        guard !chars.isEmpty, chars.count <= 20 else { return nil }
        var values: [Int] = []
        for c in chars {
            guard let v = QRCode.alphabet.firstIndex(of: c) else { return nil }
            values.append(v)
        }
        // the bit stream: mode 0010, a 9-bit count, pairs in 11 bits, a last single in 6
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in (0..<count).reversed() { bits.append((value >> i) & 1 == 1) } }
        append(0b0010, 4)
        append(values.count, 9)
        var i = 0
        while i + 1 < values.count {
            append(values[i] * 45 + values[i + 1], 11)
            i += 2
        }
        if i < values.count { append(values[i], 6) }
        let capacity = QRCode.dataCodewords * 8
        append(0, min(4, capacity - bits.count))  // terminator
        while bits.count % 8 != 0 { bits.append(false) }
        var data: [Int] = stride(from: 0, to: bits.count, by: 8).map { start in bits[start..<start + 8].reduce(0) { $0 << 1 | ($1 ? 1 : 0) } }
        var pad = 0xEC
        while data.count < QRCode.dataCodewords {
            data.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        let codewords = data + QRCode.remainder(data, QRCode.divisor(QRCode.ecCodewords))

        let n = QRCode.size
        var dark = Array(repeating: Array(repeating: false, count: n), count: n)
        var function = dark
        func set(_ row: Int, _ col: Int, _ value: Bool) {
            dark[row][col] = value
            function[row][col] = true
        }
        for k in 0..<n {
            set(6, k, k % 2 == 0)
            set(k, 6, k % 2 == 0)
        }
        for (cr, cc) in [(3, 3), (3, n - 4), (n - 4, 3)] {
            for dr in -4...4 {
                for dc in -4...4 where (0..<n).contains(cr + dr) && (0..<n).contains(cc + dc) {
                    let d = max(abs(dr), abs(dc))
                    set(cr + dr, cc + dc, d != 2 && d != 4)
                }
            }
        }
        QRCode.format(0, into: &dark, function: &function)  // reserves the format areas
        // the codewords, MSB first, in two-column zigzags from the bottom right, skipping column 6
        let total = codewords.count * 8
        var bit = 0
        var right = n - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vert in 0..<n {
                for j in 0..<2 {
                    let col = right - j
                    let upward = (right + 1) & 2 == 0
                    let row = upward ? n - 1 - vert : vert
                    if !function[row][col] && bit < total {
                        dark[row][col] = (codewords[bit >> 3] >> (7 - (bit & 7))) & 1 == 1
                        bit += 1
                    }
                }
            }
            right -= 2
        }
        for r in 0..<n {
            for c in 0..<n where !function[r][c] && (r + c) % 2 == 0 { dark[r][c].toggle() }  // mask 0
        }
        QRCode.format(QRCode.formatBits(level: QRCode.levelM, mask: QRCode.mask), into: &dark, function: &function)
        modules = dark
    }

    /// The 15 format bits of an EC level and mask: 5 data bits, their BCH(15,5) remainder, XOR 0x5412.
    public static func formatBits(level: Int, mask: Int) -> Int {
        let data = level << 3 | mask
        var rem = data
        for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
        return (data << 10 | rem) ^ 0x5412
    }

    /// Both copies of the format bits, and the dark module.
    static func format(_ bits: Int, into dark: inout [[Bool]], function: inout [[Bool]]) {
        let n = size
        func set(_ row: Int, _ col: Int, _ i: Int) {
            dark[row][col] = (bits >> i) & 1 == 1
            function[row][col] = true
        }
        for i in 0..<6 { set(i, 8, i) }
        set(7, 8, 6)
        set(8, 8, 7)
        set(8, 7, 8)
        for i in 9..<15 { set(8, 14 - i, i) }
        for i in 0..<8 { set(8, n - 1 - i, i) }
        for i in 8..<15 { set(n - 15 + i, 8, i) }
        dark[n - 8][8] = true
        function[n - 8][8] = true
    }

    /// GF(256) product, modulo x⁸ + x⁴ + x³ + x² + 1.
    static func multiply(_ x: Int, _ y: Int) -> Int {
        var z = 0
        for i in (0..<8).reversed() {
            z = (z << 1) ^ ((z >> 7) * 0x11D)
            z ^= ((y >> i) & 1) * x
        }
        return z
    }

    /// The Reed–Solomon generator of `degree` (coefficients after the leading 1).
    static func divisor(_ degree: Int) -> [Int] {
        var result = Array(repeating: 0, count: degree - 1) + [1]
        var root = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    /// The error-correction codewords of `data`.
    static func remainder(_ data: [Int], _ divisor: [Int]) -> [Int] {
        var result = Array(repeating: 0, count: divisor.count)
        for b in data {
            let factor = b ^ result.removeFirst()
            result.append(0)
            for i in 0..<divisor.count { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }

    /// The symbol as SVG: one path of the dark modules, a 4-module quiet zone, crisp edges.
    public func svg(label: String, pixels: Int = 168) -> String {
        let q = 4, side = QRCode.size + 2 * q
        var path = ""
        for (r, row) in modules.enumerated() {
            for (c, on) in row.enumerated() where on { path += "M\(c + q) \(r + q)h1v1h-1z" }
        }
        let escaped = label.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "<", with: "&lt;")
        return "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(side) \(side)\" width=\"\(pixels)\" height=\"\(pixels)\" role=\"img\" aria-label=\"\(escaped)\" shape-rendering=\"crispEdges\">"
            + "<rect width=\"\(side)\" height=\"\(side)\" fill=\"#fff\"/><path fill=\"#000\" d=\"\(path)\"/></svg>"
    }
}
