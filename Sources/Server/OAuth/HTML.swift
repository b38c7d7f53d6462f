import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Plain Swift templates for the sign-in and approval pages; every interpolated value goes
/// through `escape`. Pages carry strict security headers and no inline script or style.
enum HTML {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func page(title: String, language: Strings.Language, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(language.rawValue)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <link rel="stylesheet" href="/oauth/style.css">
        </head>
        <body>
        <main>
        <h1>\(escape(title))</h1>
        \(body)
        </main>
        </body>
        </html>
        """
    }

    static let stylesheet = """
        body { font-family: system-ui, sans-serif; background: #f4f6f8; color: #1b1f23; margin: 0; }
        main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: .5rem; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
        label { display: block; margin-top: 1rem; font-weight: 600; }
        input[type=text], input[type=password] { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
        button { margin-top: 1.5rem; padding: .6rem 1.2rem; font-size: 1rem; margin-right: .5rem; }
        .error { color: #a40000; font-weight: 600; }
        .hint, .note { color: #555; font-size: .9rem; }
        """

    /// Security headers every HTML response carries.
    static func headers(cookie: String? = nil) -> HTTPFields {
        var h: HTTPFields = [:]
        h[.contentType] = "text/html; charset=utf-8"
        h[HTTPField.Name("Content-Security-Policy")!] = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"
        h[HTTPField.Name("X-Frame-Options")!] = "DENY"
        h[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        h[.cacheControl] = "no-store"
        h[HTTPField.Name("Pragma")!] = "no-cache"
        if let cookie { h[.setCookie] = cookie }
        return h
    }

    static func response(_ status: HTTPResponse.Status, _ html: String, cookie: String? = nil) -> Response {
        Response(status: status, headers: headers(cookie: cookie), body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
