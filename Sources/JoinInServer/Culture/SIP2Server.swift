import Foundation
import JoinInCore
public import JoinInStore
public import Logging
import NIOCore
import NIOPosix

/// One SIP2 conversation with a self-check kiosk or ILS client: login with the terminal's
/// credentials (`CN` = terminal id, `CO` = its API key), then patron status and information,
/// checkout, checkin, renew, item information and end of session, each through the same
/// `Circulation` as the HTTP API. Checksums are checked when sent (a bad one is answered 96, "resend");
/// a repeated request (the same text, so the same sequence number) is answered with the stored
/// response instead of being done twice; 97 asks for the last response again.
struct SIP2Session {
    let store: Store
    let clock: AppClock
    let circulation: Circulation
    let logger: Logger

    private(set) var terminal: TerminalPrincipal?
    private(set) var library: LibraryRecord?
    private var lastRequest: String?
    private var lastResponse: String?
    /// Consecutive messages that could not be read; the connection closes after `errorsMax`.
    private(set) var errors = 0
    static let errorsMax = 3

    init(store: Store, clock: AppClock, circulation: Circulation, logger: Logger) {
        self.store = store
        self.clock = clock
        self.circulation = circulation
        self.logger = logger
    }

    /// The reply to one message (without its terminator), and whether to close the connection.
    mutating func handle(_ text: String) async -> (reply: String?, close: Bool) {
        if text == lastRequest, let lastResponse { return (lastResponse, false) }
        let message: SIP2.Message
        do { message = try SIP2.parse(text) } catch {
            errors += 1
            return (SIP2.encode(SIP2.scResendRequest()), errors >= Self.errorsMax)
        }
        if message.checksum != nil, !SIP2.verifyChecksum(text) {
            errors += 1
            return (SIP2.encode(SIP2.scResendRequest()), errors >= Self.errorsMax)
        }
        let request: SIP2.Request
        do { request = try SIP2.request(message) } catch {
            errors += 1
            return (SIP2.encode(SIP2.scResendRequest()), errors >= Self.errorsMax)
        }
        errors = 0
        if case .resend = request { return (lastResponse ?? SIP2.encode(SIP2.scResendRequest()), false) }
        if case .login(let user, let password, _) = request {
            let ok = await login(user: user, key: password)
            return remember(text, SIP2.loginResponse(ok: ok).replying(to: message))
        }
        // Only a logged-in terminal may do anything else; an SC that skips the login is cut off.
        guard let terminal, let library else { return (nil, true) }
        let response = await respond(to: request, terminal: terminal, library: library)
        return remember(text, response.replying(to: message))
    }

    private mutating func remember(_ request: String, _ response: SIP2.Message) -> (reply: String?, close: Bool) {
        let encoded = SIP2.encode(response)
        lastRequest = request
        lastResponse = encoded
        return (encoded, false)
    }

    private mutating func login(user: String, key: String) async -> Bool {
        let now = clock.nowMs()
        let digest = store.secretDigest(key)
        let found = try? await store.read { tx -> (TerminalRecord, LibraryRecord)? in
            guard key.hasPrefix(Tokens.terminalPrefix), key.utf8.count <= 200, let terminal = try await tx.terminal(keyHash: digest),
                  terminal.id == user, terminal.revokedAtMs == nil, let kind = terminal.terminalKind, kind == .libraryKiosk || kind == .libraryDesk,
                  let bindingID = terminal.bindingId, let library = try await tx.library(id: bindingID) else { return nil }
            return (terminal, library)
        }
        let audited = String(user.prefix(64))
        _ = try? await store.write { tx in
            try await tx.appendAudit(actor: "sip2:\(audited)", action: "sip2.login", objectType: "terminal", objectID: audited,
                                     outcome: found == nil ? "denied" : "ok", detail: "", atMs: now)
        }
        guard let (record, library) = found ?? nil, let kind = record.terminalKind else { return false }
        terminal = TerminalPrincipal(id: record.id, kind: kind, bindingID: record.bindingId)
        self.library = library
        return true
    }

    private func date() -> String { SIP2.timestamp(unixMs: clock.nowMs()) }

    /// A due date as a SIP2 timestamp: the end of that day in Shanghai.
    static func due(_ date: String) -> String {
        guard let day = CivilDate(date) else { return "" }
        return SIP2.timestamp(unixMs: (day.shanghaiDayMs.upperBound - 1000))
    }

    static func message(_ error: any Error) -> String {
        if let error = error as? DomainError { return error.detail }
        return "the library system could not do this now; please ask at the desk"
    }

    /// The PIN when the SC sent one: true right, false wrong or blocked, nil not sent.
    private func pinValid(_ pin: String?, card: String, actor: String) async -> Bool? {
        guard let pin, !pin.isEmpty else { return nil }
        do {
            try await circulation.checkPIN(pin, cardNumber: card, actor: actor, time: clock.read())
            return true
        } catch {
            return false
        }
    }

    private func flags(_ patron: Circulation.Patron?) -> SIP2.PatronStatusFlags {
        guard let patron else { return SIP2.PatronStatusFlags(chargePrivilegesDenied: true, renewalPrivilegesDenied: true, holdPrivilegesDenied: true) }
        let standing = patron.standing
        return SIP2.PatronStatusFlags(
            chargePrivilegesDenied: patron.block != nil, renewalPrivilegesDenied: !standing.permitValid || !standing.cardActive,
            holdPrivilegesDenied: !standing.permitValid || !standing.cardActive, cardReportedLost: patron.card.cardStatus == .lost,
            tooManyItemsCharged: standing.openLoans >= patron.settings.maxLoans, tooManyItemsOverdue: standing.overdueLoans > 0)
    }

    private func patron(_ number: String, library: LibraryRecord) async -> Circulation.Patron? {
        guard let card = try? CardNumber(validating: number) else { return nil }
        return try? await circulation.patron(cardNumber: card.value, library: library)
    }

    private func respond(to request: SIP2.Request, terminal: TerminalPrincipal, library: LibraryRecord) async -> SIP2.Message {
        let actor = terminal.auditName
        let institution = library.id
        switch request {
        case .login, .resend:
            return SIP2.scResendRequest()
        case .scStatus:
            // Supported: patron status, checkout, checkin, SC status, resend, login, patron information,
            // end session, item information, renew.
            return SIP2.acsStatus(online: true, checkinOK: true, checkoutOK: true, renewalPolicy: true, statusUpdateOK: false,
                                  offlineOK: false, timeoutPeriod: 30, retriesAllowed: 3, dateTime: date(), institution: institution,
                                  libraryName: "\(library.nameEn) / \(library.nameZh)", supportedMessages: "YYYNYYYYYNYNNNYN",
                                  terminalLocation: terminal.id, screenMessage: nil)
        case .patronStatus(let language, _, _, let number, _, let pin):
            let found = await patron(number, library: library)
            let valid = found == nil ? nil : await pinValid(pin, card: number, actor: actor)
            return SIP2.patronStatusResponse(status: flags(found), language: language, date: date(), institution: institution, patron: number,
                                             personalName: found?.person.fullName ?? "", validPatron: found != nil, validPassword: valid,
                                             screenMessage: found?.block.map { $0.detail } ?? (found == nil ? "Unknown card" : nil))
        case .patronInformation(let language, _, let summary, _, let number, _, let pin, let start, let end):
            let found = await patron(number, library: library)
            let valid = found == nil ? nil : await pinValid(pin, card: number, actor: actor)
            let range = (max(1, start ?? 1) - 1)..<max(1, min(end ?? 50, (start ?? 1) + 49))
            func slice(_ items: [String]) -> [String] { Array(items.dropFirst(range.lowerBound).prefix(range.count)) }
            let loans = found?.loans.map(\.barcode) ?? []
            let overdue = found?.overdue.map(\.barcode) ?? []
            let ready = found?.readyHolds.map(\.barcode) ?? []
            // The summary asks for one category's items: hold (position 0), overdue (1), charged (2).
            let wanted = Array(summary.utf8).map { $0 == UInt8(ascii: "Y") || $0 == UInt8(ascii: "y") }
            func asked(_ position: Int) -> Bool { position < wanted.count && wanted[position] }
            return SIP2.patronInformationResponse(
                status: flags(found), language: language, date: date(), holdCount: ready.count, overdueCount: overdue.count,
                chargedCount: loans.count, fineCount: 0, recallCount: 0, unavailableHoldCount: 0, institution: institution, patron: number,
                personalName: found?.person.fullName ?? "", holdLimit: nil, overdueLimit: 0, chargedLimit: found?.settings.maxLoans,
                validPatron: found != nil, validPassword: valid, holdItems: asked(0) ? slice(ready) : [],
                overdueItems: asked(1) ? slice(overdue) : [], chargedItems: asked(2) ? slice(loans) : [],
                screenMessage: found?.block.map { $0.detail } ?? (found == nil ? "Unknown card" : nil))
        case .checkout(_, _, _, _, let number, let barcode, _, let pin, _):
            do {
                let card = try CardNumber(validating: number).value
                if let pin, !pin.isEmpty { try await circulation.checkPIN(pin, cardNumber: card, actor: actor, time: clock.read()) }
                let done = try await circulation.checkout(cardNumber: card, barcode: try LibraryController.barcode(barcode), library: library,
                                                          terminalID: terminal.id, actor: actor)
                return SIP2.checkoutResponse(ok: true, renewalOK: !done.created, date: date(), institution: institution, patron: number,
                                             item: barcode, title: done.item.title, dueDate: Self.due(done.loan.dueDate),
                                             screenMessage: "Due \(done.loan.dueDate)")
            } catch {
                let title = (try? await store.read { tx in try await tx.libraryItem(cityCode: library.cityCode, barcode: barcode) })??.title
                return SIP2.checkoutResponse(ok: false, renewalOK: false, date: date(), institution: institution, patron: number, item: barcode,
                                             title: title ?? "", dueDate: nil, screenMessage: Self.message(error))
            }
        case .checkin(_, _, _, _, _, let barcode, _):
            do {
                let done = try await circulation.checkin(barcode: try LibraryController.barcode(barcode), library: library, actor: actor)
                return SIP2.checkinResponse(ok: true, resensitize: done.readyHold == nil, alert: done.readyHold != nil, date: date(),
                                            institution: institution, item: barcode, permanentLocation: done.item.libraryId, title: done.item.title,
                                            patron: nil, sortBin: done.readyHold == nil ? nil : "HOLD",
                                            screenMessage: done.readyHold.map { "Hold shelf until \($0.expiresOn ?? "")" }
                                                ?? (done.loan == nil ? "Not on loan" : "Returned"))
            } catch {
                return SIP2.checkinResponse(ok: false, resensitize: false, alert: true, date: date(), institution: institution, item: barcode,
                                            permanentLocation: "", title: nil, patron: nil, sortBin: nil, screenMessage: Self.message(error))
            }
        case .renew(_, _, _, _, let number, let pin, let item, _, _):
            let barcode = item ?? ""
            do {
                let card = try CardNumber(validating: number).value
                if let pin, !pin.isEmpty { try await circulation.checkPIN(pin, cardNumber: card, actor: actor, time: clock.read()) }
                let holder = try await store.read { tx in try await tx.existingCard(card) }
                let (loan, record) = try await circulation.renew(personID: holder.personId, cityCode: library.cityCode,
                                                                 barcode: try LibraryController.barcode(barcode), actor: actor)
                return SIP2.renewResponse(ok: true, renewalOK: true, date: date(), institution: institution, patron: number, item: barcode,
                                          title: record.title, dueDate: Self.due(loan.dueDate), screenMessage: "Due \(loan.dueDate)")
            } catch {
                return SIP2.renewResponse(ok: false, renewalOK: false, date: date(), institution: institution, patron: number, item: barcode,
                                          title: "", dueDate: nil, screenMessage: Self.message(error))
            }
        case .endPatronSession(_, _, let number, _, _):
            return SIP2.endSessionResponse(ended: true, date: date(), institution: institution, patron: number, screenMessage: nil)
        case .itemInformation(_, _, let barcode, _):
            let found = try? await store.read { tx -> (LibraryItemRecord, LibraryLoanRecord?)? in
                guard let item = try await tx.libraryItem(cityCode: library.cityCode, barcode: barcode) else { return nil }
                return (item, try await tx.openLoan(cityCode: library.cityCode, barcode: barcode))
            }
            guard let (item, loan) = found ?? nil else {
                return SIP2.itemInformationResponse(circulationStatus: 1, date: date(), item: barcode, title: "", dueDate: nil,
                                                    screenMessage: "Unknown item")
            }
            let status = switch item.itemStatus { case .onLoan?: 4; case .onHoldShelf?: 8; default: 3 }
            return SIP2.itemInformationResponse(circulationStatus: status, date: date(), item: barcode, title: item.title,
                                                dueDate: loan.map { Self.due($0.dueDate) }, screenMessage: nil)
        }
    }
}

/// Splits the byte stream into SIP2 messages at CR; a message longer than the limit closes the
/// connection (it cannot be a SIP2 message).
struct SIP2FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let lengthMax: Int

    struct TooLong: Error {}

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let index = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\r")) else {
            if buffer.readableBytes > lengthMax { throw TooLong() }
            return .needMoreData
        }
        let length = index - buffer.readerIndex
        guard length <= lengthMax, let frame = buffer.readSlice(length: length) else { throw TooLong() }
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Closes a connection that stayed silent past the idle timeout.
final class SIP2IdleCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The SIP2 listener of `joinin serve --sip2-port`: SIP2 over plain TCP (as kiosks speak it on a
/// library's network; put TLS in front with a terminating proxy where the network is not trusted).
public struct SIP2Server: Sendable {
    public static let messageLengthMax = SIP2.messageLengthMax

    let store: Store
    let clock: AppClock
    let circulation: Circulation
    let host: String
    let port: Int
    let idleTimeout: TimeAmount
    let logger: Logger

    public init(store: Store, clock: AppClock = .system, host: String, port: Int, idleSeconds: Int = 300, logger: Logger) {
        self.store = store
        self.clock = clock
        let attempts = AttemptGuard(store: store, clock: clock)
        self.circulation = Circulation(store: store, clock: clock, pins: PINCheck(store: store, attempts: attempts))
        self.host = host
        self.port = port
        self.idleTimeout = .seconds(Int64(idleSeconds))
        self.logger = logger
    }

    /// Binds, calls `onBound` with the port it listens on, and serves until the task is cancelled.
    public func run(onBound: @Sendable (Int) async -> Void = { _ in }) async throws {
        let idle = idleTimeout
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try child.pipeline.syncOperations.addHandler(SIP2IdleCloser())
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(SIP2FrameDecoder(lengthMax: Self.messageLengthMax)))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        await onBound(server.channel.localAddress?.port ?? port)
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await connection in inbound {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        var session = SIP2Session(store: store, clock: clock, circulation: circulation, logger: logger)
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    var text = String(decoding: frame.readableBytesView, as: UTF8.self)
                    if text.hasPrefix("\n") { text.removeFirst() }
                    let (reply, close) = await session.handle(text)
                    if let reply { try await outbound.write(ByteBuffer(string: reply + "\r")) }
                    if close { return }
                }
            }
        } catch {
            // Oversized frames, resets and timeouts end the connection; nothing of the request is logged.
            logger.debug("sip2 connection ended", metadata: ["error": "\(String(reflecting: type(of: error)))"])
        }
    }
}
