import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import Monitoring
import NIOCore
import Trust

/// The websocket channel of Subscriptions on the wire (docs/subscriptions.md "The websocket
/// channel"): `$get-ws-binding-token`, and the upgrade at `/fhir/websocket` whose connections
/// are served by `SubscriptionSocketSession` (Monitoring).
enum SubscriptionWebSocketRoute {
    static let path = "/fhir/websocket"

    /// `ws(s)://…/fhir/websocket` for a FHIR base `http(s)://…/fhir`.
    static func url(base: String) -> String {
        var b = base
        if b.lowercased().hasPrefix("https://") { b = "wss://" + b.dropFirst("https://".count) } else if b.lowercased().hasPrefix("http://") {
            b = "ws://" + b.dropFirst("http://".count)
        }
        return b + "/websocket"
    }

    /// Which upgrade requests become a websocket (only the Subscriptions path; any other gets the
    /// HTTP answer of its route).
    static func shouldUpgrade(door: Door, base: String)
        -> @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        { request, channel, _ in
            let peer = channel.remoteAddress?.ipAddress
            let path = (request.path ?? "").split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            guard path == SubscriptionWebSocketRoute.path else { return .dontUpgrade }
            return .upgrade([:]) { inbound, outbound, _ in
                await serve(inbound: inbound, outbound: outbound, door: door, base: base, peer: peer)
            }
        }
    }

    /// One connection: commands in, notifications out, until the client goes or a `Close`.
    static func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, door: Door, base: String, peer: String? = nil) async {
        let session = SubscriptionSocketSession(channel: SubscriptionWebSocket(door: door, base: base), peer: peer) { text in
            try await outbound.write(.text(text))
        }
        let close: SubscriptionSocketSession.Close? = await withTaskGroup(of: SubscriptionSocketSession.Close?.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 16 * 1024) {
                        switch message {
                        case .text(let text):
                            if let c = try await session.receive(text) { return c }
                        case .binary:
                            return try await session.receiveBinary()
                        }
                    }
                } catch {
                    return SubscriptionSocketSession.Close(code: 1008, reason: "unreadable frame (over 16 KiB or broken)")
                }
                return nil  // the client closed
            }
            group.addTask {
                while !Task.isCancelled {
                    do {
                        if let c = try await session.pass() { return c }
                    } catch is CancellationError {
                        return nil
                    } catch {
                        // a failed pass (a busy database) is tried again; the client's cursor did not move
                    }
                    _ = await door.writes.wait(timeout: 0.5)
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let close {
            try? await outbound.close(close.code == 1000 ? .normalClosure : .policyViolation, reason: close.reason)
        }
    }
}

extension FHIRAPI {
    /// `Subscription/[id]/$get-ws-binding-token` and `Subscription/$get-ws-binding-token?id=…`
    /// (https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/OperationDefinition-backport-subscription-get-ws-binding-token.html):
    /// for the owner of websocket Subscriptions only, a Parameters with `token`, `expiration`,
    /// `subscription` (each) and `websocket-url`.
    func getWebSocketBindingToken(_ request: Request, _ context: EnlaceRequestContext, instance: Bool) async throws -> Response {
        _ = try requireType(context, "Subscription", operation: "$get-ws-binding-token")
        var ids: [String] = []
        if instance {
            ids = [try context.parameters.require("id")]
        } else {
            for (k, v) in try FHIRAPI.parseQuery(request.uri.query ?? "") where k == "id" {
                ids += v.split(separator: ",").map(String.init)
            }
            if request.method == .post {
                let params = try await body(request)
                for p in params["parameter"]?.arrayValue ?? [] where p["name"]?.stringValue == "id" {
                    if let v = p["valueId"]?.stringValue ?? p["valueString"]?.stringValue { ids.append(v) }
                }
            }
            guard !ids.isEmpty else {
                throw FHIRError(status: 400, code: "required", english: "name the Subscriptions with the 'id' parameter (or call Subscription/[id]/$get-ws-binding-token)",
                                spanish: "indique las Subscriptions con el parámetro 'id' (o llame a Subscription/[id]/$get-ws-binding-token)")
            }
        }
        let g = try await guarded(context)
        var unique: [String] = []
        for id in ids where !unique.contains(id) {
            // the owner only: anyone else is told it does not exist
            let subscription = try await g.read("Subscription", id).json()
            guard try await SubscriptionMatcher.owner(id, door: door)?.subject == g.principal.subject else { throw FHIRError.notFound("Subscription", id) }
            let spec = try SubscriptionSpec(subscription)
            guard spec.channel == .websocket else {
                throw FHIRError(status: 422, code: "not-supported", english: "Subscription/\(id) has channel \(spec.channel.rawValue), not websocket",
                                spanish: "Subscription/\(id) tiene canal \(spec.channel.rawValue), no websocket")
            }
            guard ["requested", "active"].contains(spec.status) else {
                throw FHIRError(status: 422, code: "business-rule", english: "Subscription/\(id) is \(spec.status): set it to 'requested' first",
                                spanish: "Subscription/\(id) está en '\(spec.status)': póngala primero en 'requested'")
            }
            unique.append(id)
        }
        let (token, binding) = try await SubscriptionWebSocket(door: door, base: base).issue(unique, for: g.principal)
        var parameters: [JSON] = [.object([("name", .string("token")), ("valueString", .string(token))]),
                                  .object([("name", .string("expiration")), ("valueDateTime", .string(binding.expires.description))])]
        parameters += unique.map { .object([("name", .string("subscription")), ("valueString", .string("\(base)/Subscription/\($0)"))]) }
        parameters.append(.object([("name", .string("websocket-url")), ("valueUrl", .string(SubscriptionWebSocketRoute.url(base: base)))]))
        return FHIRResponse.json(.ok, .object([("resourceType", .string("Parameters")), ("parameter", .array(parameters))]))
    }
}

/// The server's HTTP/1 connections: each looks at its first request head and becomes either the
/// plain HTTP/1 channel (with `ProtocolErrorHandler`, so malformed requests still get their
/// OperationOutcome) or, for a websocket upgrade, Hummingbird's upgrade channel.
struct EnlaceHTTPChannel: ServerChildChannel {
    let http: HTTP1Channel
    let webSocket: HTTP1WebSocketUpgradeChannel

    enum Inner: Sendable {
        case http(HTTP1Channel.Value)
        case webSocket(HTTP1WebSocketUpgradeChannel.Value)
    }

    struct Value: ServerChildChannelValue {
        let channel: any Channel
        let inner: EventLoopFuture<Inner>
    }

    static func builder(door: Door, base: String) -> HTTPServerBuilder {
        .init { responder in
            EnlaceHTTPChannel(
                http: HTTP1Channel(responder: responder, configuration: .init(additionalChannelHandlers: [ProtocolErrorHandler()])),
                webSocket: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: .init(ws: .init(maxFrameSize: 1 << 20)),
                                                        shouldUpgrade: SubscriptionWebSocketRoute.shouldUpgrade(door: door, base: base)))
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let decided = channel.eventLoop.makePromise(of: Inner.self)
        let http = self.http, webSocket = self.webSocket
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(FirstRequestSniffer(decided: decided) { upgrade in
                upgrade ? webSocket.setup(channel: channel, logger: logger).map(Inner.webSocket) : http.setup(channel: channel, logger: logger).map(Inner.http)
            })
            return Value(channel: channel, inner: decided.futureResult)
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let inner = try? await value.inner.get() else {
            try? await value.channel.close()
            return
        }
        switch inner {
        case .http(let v): await http.handle(value: v, logger: logger)
        case .webSocket(let v): await webSocket.handle(value: v, logger: logger)
        }
    }
}

/// Holds a connection's first bytes until its first request head is complete (or 96 KiB, past
/// the decoder's limit), decides whether it asks for a websocket upgrade, sets up the pipeline
/// for that, hands the bytes on and leaves.
final class FirstRequestSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let decided: EventLoopPromise<EnlaceHTTPChannel.Inner>
    let configure: (Bool) -> EventLoopFuture<EnlaceHTTPChannel.Inner>
    var buffered: ByteBuffer?
    var done = false

    init(decided: EventLoopPromise<EnlaceHTTPChannel.Inner>, configure: @escaping (Bool) -> EventLoopFuture<EnlaceHTTPChannel.Inner>) {
        self.decided = decided
        self.configure = configure
    }

    static let limit = 96 * 1024

    /// Does this request head (up to its blank line) ask for `Upgrade: websocket`?
    static func asksForWebSocket(_ head: [UInt8]) -> Bool {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        return text.split(separator: "\r\n").dropFirst().contains { line in
            line.hasPrefix("upgrade:") && line.dropFirst("upgrade:".count).split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "websocket" }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !done else {
            context.fireChannelRead(data)
            return
        }
        if buffered == nil { buffered = incoming } else { buffered!.writeBuffer(&incoming) }
        let bytes = Array(buffered!.readableBytesView)
        var end: Int?
        if bytes.count >= 4 {
            for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
                end = i
                break
            }
        }
        guard end != nil || bytes.count >= FirstRequestSniffer.limit else { return }
        done = true
        let upgrade = end.map { FirstRequestSniffer.asksForWebSocket(Array(bytes[..<$0])) } ?? false
        let setup = configure(upgrade)
        setup.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let inner):
                self.decided.succeed(inner)
                if let b = self.buffered {
                    self.buffered = nil
                    context.fireChannelRead(self.wrapInboundOut(b))
                    context.fireChannelReadComplete()
                }
                context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            case .failure(let error):
                self.decided.fail(error)
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            decided.fail(ChannelError.inputClosed)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            decided.fail(error)
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }
}
