import FHIR
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Requests the HTTP parser itself refuses — a request line or headers over the decoder's
/// limits (80 KiB), a malformed request line — never reach the router, and Hummingbird answers
/// them with an empty 400. This handler, placed after the HTTP codec, answers them with an
/// OperationOutcome like every other refusal (431 for too large, 400 otherwise) and closes the
/// connection. Nothing was read, so nothing is stored or audited.
final class ProtocolErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    static func outcome(for error: HTTPParserError) -> (HTTPResponse.Status, FHIRError) {
        switch error {
        case .headerOverflow:
            return (.init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
                    FHIRError(status: 431, code: "too-long",
                              english: "the request line or headers are larger than 80 KiB; send long searches as POST [type]/_search with a form body",
                              spanish: "la línea de petición o los encabezados superan 80 KiB; envíe las búsquedas largas como POST [tipo]/_search con el cuerpo en un formulario"))
        default:
            return (.badRequest, FHIRError(status: 400, code: "structure",
                                           english: "the HTTP request is malformed (\(error))",
                                           spanish: "la petición HTTP está mal formada (\(error))"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let (status, fhir) = ProtocolErrorHandler.outcome(for: parse)
        let body = fhir.operationOutcome.serialized()
        var fields = HTTPFields()
        fields[.contentType] = "application/fhir+json; charset=utf-8"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        let done = context.eventLoop.makePromise(of: Void.self)
        let channel = context.channel
        done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
    }
}
