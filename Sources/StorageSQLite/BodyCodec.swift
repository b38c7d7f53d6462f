import CZlib

/// How a resource body is kept in `resource_version.body` (docs/performance.md, "Compressed
/// bodies"). A body is FHIR JSON, so a stored body that starts with `{` is plain (every body
/// written before, and any body too small to gain); otherwise its first byte names the form:
///
/// - `0x01`: raw deflate (RFC 1951) with the preset dictionary `BodyDictionary.v1`, after the
///   plain length as a LEB128 varint.
///
/// The dictionary is part of the format: a form is never changed once written; a better
/// dictionary is a new marker, and every marker ever written stays readable.
enum BodyCodec {
    static let deflateV1: UInt8 = 0x01
    /// Below this the header and deflate's block overhead eat the gain.
    static let minimumSize = 96

    /// The stored form of `body`: compressed when that is smaller, else `body` itself.
    static func encode(_ body: [UInt8]) -> [UInt8] {
        guard body.count >= minimumSize, body.first == UInt8(ascii: "{") else { return body }
        guard let compressed = deflate(body) else { return body }
        var out: [UInt8] = [deflateV1]
        out.reserveCapacity(1 + 5 + compressed.count)
        var n = UInt32(body.count)
        repeat {
            out.append(UInt8(n & 0x7F) | (n >= 0x80 ? 0x80 : 0))
            n >>= 7
        } while n > 0
        out += compressed
        return out.count < body.count ? out : body
    }

    struct Corrupt: Error, CustomStringConvertible {
        let description: String
    }

    /// The body `stored` holds.
    /// - Throws: `Corrupt` when the marker is unknown or the compressed bytes do not inflate to
    ///   the recorded length.
    static func decode(_ stored: [UInt8]) throws -> [UInt8] {
        guard let marker = stored.first, marker != UInt8(ascii: "{") else { return stored }
        guard marker == deflateV1 else { throw Corrupt(description: "unknown stored body form \(marker)") }
        var length: UInt32 = 0
        var shift: UInt32 = 0
        var i = 1
        while true {
            guard i < stored.count, shift <= 28 else { throw Corrupt(description: "stored body: bad length") }
            let byte = stored[i]
            length |= UInt32(byte & 0x7F) << shift
            i += 1
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard length <= 512 * 1024 * 1024 else { throw Corrupt(description: "stored body: length \(length) too large") }
        guard let plain = inflate(stored[i...], length: Int(length), dictionary: BodyDictionary.v1) else {
            throw Corrupt(description: "stored body: the compressed bytes do not inflate to \(length) bytes")
        }
        return plain
    }

    /// A deflate stream with dictionary v1 loaded, never used itself: each compression starts
    /// from a copy of it (`deflateCopy` only reads its source, so copies may be taken from many
    /// threads at once). Loading the 20 kB dictionary into a fresh stream cost about 60 µs a
    /// body; copying the loaded one, a fraction of that (docs/performance.md).
    final class Primed: @unchecked Sendable {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        let ready: Bool

        init(dictionary: [UInt8]) {
            stream.initialize(to: z_stream())
            guard deflateInit2_(stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                ready = false
                return
            }
            let s = stream
            ready = dictionary.withUnsafeBufferPointer { d in deflateSetDictionary(s, d.baseAddress, uInt(d.count)) } == Z_OK
        }
    }

    static let primedV1 = Primed(dictionary: BodyDictionary.v1)

    static func deflate(_ input: [UInt8], from primed: Primed = primedV1) -> [UInt8]? {
        guard primed.ready else { return nil }
        var stream = z_stream()
        guard deflateCopy(&stream, primed.stream) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))))
        guard finish(&stream, input[...], into: &output, CZlib.deflate) == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    static func inflate(_ input: ArraySlice<UInt8>, length: Int, dictionary: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        let status = dictionary.withUnsafeBufferPointer { d in inflateSetDictionary(&stream, d.baseAddress, uInt(d.count)) }
        guard status == Z_OK else { return nil }
        var output = [UInt8](repeating: 0, count: length)
        let result = finish(&stream, input, into: &output, CZlib.inflate)
        // all of it, exactly: the length recorded and nothing after the end of the stream
        guard result == Z_STREAM_END, Int(stream.total_out) == length, stream.avail_in == 0 else { return nil }
        return output
    }

    /// Runs `step` (deflate or inflate) once with `Z_FINISH` over all of `input` into `output`.
    static func finish(_ stream: inout z_stream, _ input: ArraySlice<UInt8>, into output: inout [UInt8],
                       _ step: (UnsafeMutablePointer<z_stream>, Int32) -> Int32) -> Int32 {
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                stream.next_in = UnsafeMutablePointer(mutating: i.baseAddress)
                stream.avail_in = uInt(i.count)
                stream.next_out = o.baseAddress
                stream.avail_out = uInt(o.count)
                return step(&stream, Z_FINISH)
            }
        }
    }
}
