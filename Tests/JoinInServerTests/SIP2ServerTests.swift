import Foundation
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import NIOCore
import NIOPosix
import Testing

/// A raw TCP client for the tests: sends text, reads up to the next CR. Its blocking socket calls
/// run on a thread of their own, never on the concurrency pool or NIO's thread pool (bcrypt) that
/// the server under test needs: two tests blocked in `read` there would starve the server.
final class SIP2TestClient: @unchecked Sendable {
    // @unchecked: used by one test task at a time; the socket is a plain file descriptor.

    static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: work()) }
        }
    }
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw CocoaError(.fileReadUnknown) }
    }

    deinit { close(fd) }

    func syncSend(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// The next message up to CR, or nil when the server closed the connection.
    func receive() async -> String? {
        await Self.onOwnThread { self.syncReceive() }
    }

    func send(_ text: String) async {
        await Self.onOwnThread { self.syncSend(text) }
    }

    func syncReceive() -> String? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
                        if count <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == 13 { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    func ask(_ text: String) async -> String? {
        await Self.onOwnThread {
            self.syncSend(text + "\r")
            return self.syncReceive()
        }
    }

    /// A message with AY/AZ added, as a kiosk sends it.
    static func framed(_ body: String, sequence: Int) -> String {
        let head = body + "AY\(sequence)AZ"
        return head + SIP2.checksum(head)
    }
}

@Suite("SIP2 server: a kiosk's conversation over TCP")
struct SIP2ServerTests {
    static func withServer(_ engine: Store.EngineKind, idleSeconds: Int = 30,
                           _ body: @escaping @Sendable (Harness, LibraryWorld, String, String, Int) async throws -> Void) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let kioskID = w.kioskID
            let server = SIP2Server(store: h.store, clock: h.clock.appClock, host: "127.0.0.1", port: 0, idleSeconds: idleSeconds,
                                    logger: TestStores.logger)
            let (stream, continuation) = AsyncStream<Int>.makeStream()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run { port in continuation.yield(port) } }
                var ports = stream.makeAsyncIterator()
                let port = try #require(await ports.next())
                try await body(h, w, kioskID, w.kiosk, port)
                group.cancelAll()
            }
        }
    }

    @Test("login, status, patron, checkout, item information, renew, checkin, end session: the same records as HTTP",
          arguments: TestStores.engines)
    func conversation(engine: Store.EngineKind) async throws {
        try await Self.withServer(engine) { h, w, kioskID, key, port in
            let kiosk = try SIP2TestClient(port: port)
            #expect(await kiosk.ask(SIP2TestClient.framed("9300CN\(kioskID)|COjit_wrong|CPdesk|", sequence: 0)) == SIP2.encode(command: "94", fixed: "0", sequence: 0))
            let login = try #require(await kiosk.ask(SIP2TestClient.framed("9300CN\(kioskID)|CO\(key)|CPdesk|", sequence: 1)))
            #expect(login.hasPrefix("941AY1AZ") && SIP2.verifyChecksum(login), "\(login)")
            let status = try #require(await kiosk.ask(SIP2TestClient.framed("9900302.00", sequence: 2)))
            #expect(status.hasPrefix("98YYYY") && status.contains("|BXYYYNYYYYYNYNNNYN|"), "\(status)")
            let date = SIP2.timestamp(unixMs: h.clock.now)
            let patron = try #require(await kiosk.ask(SIP2TestClient.framed("23001\(date)AOjoinin|AA\(w.card)|AD582931|", sequence: 3)))
            #expect(patron.contains("|AESMITH JANE ANN|") && patron.contains("|BLY|") && patron.contains("|CQY|"), "\(patron)")
            let wrongPIN = try #require(await kiosk.ask(SIP2TestClient.framed("23001\(date)AOjoinin|AA\(w.card)|AD000000|", sequence: 4)))
            #expect(wrongPIN.contains("|CQN|"), "\(wrongPIN)")
            let checkout = try #require(await kiosk.ask(SIP2TestClient.framed("11NN\(date)\(date)AOjoinin|AA\(w.card)|ABTY000003|AD582931|", sequence: 5)))
            let parsed = try SIP2.parse(checkout)
            #expect(parsed.command == "12" && parsed.fixed.hasPrefix("1"), "\(checkout)")
            #expect(parsed.field("AJ") == "Fortress Besieged / 围城")
            #expect(parsed.field("AH")?.hasPrefix("20261231") == true, "due 30 days after 2026-12-01: \(checkout)")
            // The loan is the HTTP API's loan.
            let loans = try await h.call(.get, "/v1/ecard/library/loans", token: w.token)
            #expect(loans.items.first?["item_barcode"] as? String == "TY000003")
            let info = try #require(await kiosk.ask(SIP2TestClient.framed("63001\(date)  Y       AOjoinin|AA\(w.card)|AD582931|", sequence: 6)))
            #expect(info.hasPrefix("64") && info.contains("|AUTY000003|"), "\(info)")
            let item = try #require(await kiosk.ask(SIP2TestClient.framed("17\(date)AOjoinin|ABTY000003|", sequence: 7)))
            #expect(item.hasPrefix("1804"), "\(item)")
            // A kiosk that did not hear the answer sends the same renewal again: answered, not renewed twice.
            let renewal = SIP2TestClient.framed("29NN\(date)\(date)AOjoinin|AA\(w.card)|AD582931|ABTY000003|", sequence: 8)
            let renewed = try #require(await kiosk.ask(renewal))
            #expect(renewed.hasPrefix("301Y"), "\(renewed)")
            #expect(await kiosk.ask(renewal) == renewed)
            let loan = try await h.store.read { tx in try await tx.openLoan(cityCode: "330200", barcode: "TY000003") }
            #expect(loan?.renewals == 1)
            #expect(await kiosk.ask(SIP2TestClient.framed("97", sequence: 9)) == renewed, "97 resends the last answer")
            let checkin = try #require(await kiosk.ask(SIP2TestClient.framed("09N\(date)\(date)APdesk|AOjoinin|ABTY000003|", sequence: 0)))
            #expect(checkin.hasPrefix("101YUN"), "\(checkin)")
            let unknown = try #require(await kiosk.ask(SIP2TestClient.framed("11NN\(date)\(date)AOjoinin|AA\(w.card)|ABNOPE|", sequence: 1)))
            #expect(unknown.hasPrefix("120") && unknown.contains("|AF"), "\(unknown)")
            let end = try #require(await kiosk.ask(SIP2TestClient.framed("35\(date)AOjoinin|AA\(w.card)|", sequence: 2)))
            #expect(end.hasPrefix("36Y"), "\(end)")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: w.world.admin)
            #expect(audit.items.filter { $0["action"] as? String == "library.checkout" }.count == 1)
            #expect(audit.items.filter { $0["action"] as? String == "sip2.login" }.count == 2)
            #expect(!audit.text.contains(key), "the API key is never stored")
        }
    }

    @Test("bad checksums are answered 96, garbage three times or an oversized message closes, no login no service",
          arguments: TestStores.engines)
    func robustness(engine: Store.EngineKind) async throws {
        try await Self.withServer(engine, idleSeconds: 30) { _, w, kioskID, key, port in
            let early = try SIP2TestClient(port: port)
            #expect(await early.ask(SIP2TestClient.framed("9900302.00", sequence: 0)) == nil, "no service before login")

            let kiosk = try SIP2TestClient(port: port)
            #expect(await kiosk.ask(SIP2TestClient.framed("9300CN\(kioskID)|CO\(key)|", sequence: 1))?.hasPrefix("941") == true)
            #expect(await kiosk.ask("9900302.00AY2AZ0000") == "96AZFEF6", "a wrong checksum asks for a resend")
            #expect(await kiosk.ask(SIP2TestClient.framed("9900302.00", sequence: 3))?.hasPrefix("98") == true, "the connection goes on")
            #expect(await kiosk.ask("garbage") == "96AZFEF6")
            #expect(await kiosk.ask("more garbage") == "96AZFEF6")
            #expect(await kiosk.ask("still garbage") == "96AZFEF6")
            #expect(await kiosk.receive() == nil, "closed after three unreadable messages")

            let big = try SIP2TestClient(port: port)
            await big.send(String(repeating: "A", count: 5_000))
            #expect(await big.receive() == nil, "an oversized message closes the connection")

            _ = w
        }
    }

    @Test("a connection silent past the idle timeout is closed by the server", arguments: TestStores.engines)
    func idleTimeout(engine: Store.EngineKind) async throws {
        try await Self.withServer(engine, idleSeconds: 3) { _, _, kioskID, key, port in
            let idle = try SIP2TestClient(port: port)
            #expect(await idle.ask(SIP2TestClient.framed("9300CN\(kioskID)|CO\(key)|", sequence: 1))?.hasPrefix("941") == true)
            let started = ContinuousClock.now
            // The client would wait 10 s for data; the server closes after 3 s of silence.
            #expect(await idle.receive() == nil, "an idle connection is closed")
            let waited = ContinuousClock.now - started
            // The server's 3 s run from its reply; on a loaded machine the reply may reach us a while
            // later, so the lower bound only rules out a close without waiting.
            #expect(waited > .milliseconds(500) && waited < .seconds(9), "closed by the idle timeout after \(waited)")
        }
    }

    /// Runs a shell command with no pipes of ours (Foundation's Pipe closes its descriptors on its
    /// own schedule, which can hit a descriptor number another test's socket reuses); output goes
    /// to a file.
    static func shell(_ command: String) throws -> (status: Int32, output: String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("sip2-\(UUID().uuidString).log").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "\(command) > '\(log)' 2>&1"]
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: log)
        return (process.terminationStatus, output)
    }

    @Test("an independent SIP2 client (Python `sip2` package) checks out, renews and returns through the server",
          arguments: TestStores.engines)
    func pythonClient(engine: Store.EngineKind) async throws {
        guard try Self.shell("python3 -c 'import Sip2.sip2'").status == 0 else {
            print("SIP2 interop test skipped: the Python package `sip2` is not installed (pip install sip2); .ci/run installs it")
            return
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/sip2-kiosk.py").path
        try await Self.withServer(engine) { _, w, kioskID, key, port in
            // Waiting for the process blocks a thread: not one the server needs.
            let (status, text) = await SIP2TestClient.onOwnThread {
                (try? Self.shell("python3 '\(script)' 127.0.0.1 \(port) \(kioskID) \(key) \(w.card) 582931 TY000004 --round-trip"))
                    ?? (-1, "the process did not start")
            }
            #expect(status == 0, "\(text)")
            #expect(text.contains("sip2 kiosk: ok"), "\(text)")
        }
    }
}
