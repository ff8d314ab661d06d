import Foundation
import JoinInCore
@testable import JoinInCLI
import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

@Suite("CLI: transit imports")
struct TransitCLITests {
    static var demoFeed: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples/transit-demo-feed").path
    }

    /// A copy of the demo feed with one file replaced.
    static func feed(in directory: String, replacing name: String? = nil, with text: String = "") throws -> String {
        let target = directory + "/feed-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: demoFeed) where file.hasSuffix(".txt") {
            try FileManager.default.copyItem(atPath: demoFeed + "/" + file, toPath: target + "/" + file)
        }
        if let name {
            try? FileManager.default.removeItem(atPath: target + "/" + name)
            try text.write(toFile: target + "/" + name, atomically: true, encoding: .utf8)
        }
        return target
    }

    static func makeOperator(_ fixture: CLIFixture) async throws -> String {
        try await fixture.run(["migrate"])
        let id = UUID().uuidString.lowercased()
        try await fixture.withStore { store in
            try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs())
            try await store.write { tx in
                try await tx.insertTransitOperator(TransitOperatorRecord(
                    id: id, name: LocalizedName(en: "Metro", zh: "地铁"), cityCode: "330200", modes: ["metro", "bus"], cardholderCategoryId: nil,
                    maxJourneySeconds: 10_800, exitWithoutEntry: "maximum_fare", createdAtMs: 0, updatedAtMs: 0))
            }
        }
        return id
    }

    @Test("import-gtfs stores a validated feed as the next version; a bad feed names file, line and field and stores nothing",
          arguments: TestStores.engines)
    func importGTFS(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            let operatorID = try await Self.makeOperator(fixture)
            try await fixture.run(["transit", "import-gtfs", "--operator", operatorID, "--cardholder-category", "joinin", Self.demoFeed])
            let versions = try await fixture.withStore { store in try await store.read { tx in try await tx.fareVersions(operatorID: operatorID) } }
            #expect(versions.map(\.version) == [1])
            #expect(versions.first?.validFromMs == 0, "the first version prices every earlier tap too")
            #expect(versions.first?.summary.contains("2 networks") == true)
            let record = try await fixture.withStore { store in try await store.read { tx in try await tx.transitOperator(id: operatorID) } }
            #expect(record?.cardholderCategoryId == "joinin")

            let bad = try Self.feed(in: fixture.directory, replacing: "fare_products.txt",
                                    with: "fare_product_id,amount,currency\nmetro_1zone,2.00,CNY\nmetro_2zone,2.345,CNY\n")
            do {
                try await fixture.run(["transit", "import-gtfs", "--operator", operatorID, bad])
                Issue.record("a bad feed was imported")
            } catch {
                #expect("\(error)".contains("fare_products.txt line 3, field amount"), "\(error)")
            }
            let unknownProduct = try Self.feed(in: fixture.directory, replacing: "fare_leg_rules.txt",
                                               with: "leg_group_id,network_id,fare_product_id\nmetro,metro,metro_9zone\n")
            do {
                try await fixture.run(["transit", "import-gtfs", "--operator", operatorID, unknownProduct])
                Issue.record("a feed with an unknown product was imported")
            } catch {
                #expect("\(error)".contains("fare_leg_rules.txt line 2, field fare_product_id"), "\(error)")
            }
            // A second good import is version 2, in force from now (never earlier: taps keep their version).
            try await fixture.run(["transit", "import-gtfs", "--operator", operatorID, Self.demoFeed])
            do {
                try await fixture.run(["transit", "import-gtfs", "--operator", operatorID, "--valid-from", "2020-01-01T00:00:00+08:00", Self.demoFeed])
                Issue.record("a version starting in the past was imported")
            } catch {
                #expect("\(error)".contains("transit.valid_from_past"), "\(error)")
            }
            do {
                try await fixture.run(["transit", "import-gtfs", "--operator", "no-such-operator", Self.demoFeed])
                Issue.record("an unknown operator was accepted")
            } catch {
                #expect("\(error)".contains("transit.operator_not_found"), "\(error)")
            }
            let after = try await fixture.withStore { store in try await store.read { tx in try await tx.fareVersions(operatorID: operatorID) } }
            #expect(after.map(\.version) == [2, 1])
        }
    }

    @Test("import-gtfs reads a .zip as well", arguments: TestStores.engines)
    func importZip(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            let operatorID = try await Self.makeOperator(fixture)
            let zip = fixture.directory + "/feed.zip"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", """
                import sys, zipfile, pathlib
                with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
                    for p in sorted(pathlib.Path(sys.argv[2]).glob("*.txt")):
                        z.write(p, "ningbo-feed/" + p.name)
                """, zip, Self.demoFeed]
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "python3 zipfile is needed to build the test zip")
            try await fixture.run(["transit", "import-gtfs", "--operator", operatorID, zip])
            let versions = try await fixture.withStore { store in try await store.read { tx in try await tx.fareVersions(operatorID: operatorID) } }
            #expect(versions.count == 1)
        }
    }

    @Test("import-cities flags cities and sets caps, validated whole", arguments: TestStores.engines)
    func importCities(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            _ = try await Self.makeOperator(fixture)
            let good = fixture.directory + "/cities.csv"
            try "code,interoperable,daily_cap_fen,weekly_cap_fen\n330200,1,1500,6000\n110000,1,,\n310000,0,,\n".write(toFile: good, atomically: true, encoding: .utf8)
            try await fixture.run(["transit", "import-cities", good])
            let (ningbo, beijing, shanghai, caps) = try await fixture.withStore { store in
                try await store.read { tx in
                    (try await tx.city(code: "330200"), try await tx.city(code: "110000"), try await tx.city(code: "310000"),
                     try await tx.transitCapSchedule(cityCodes: ["330200"]))
                }
            }
            #expect(ningbo?.isInteroperable == true && beijing?.isInteroperable == true && shanghai?.isInteroperable == false)
            #expect(caps.rows["330200"]?.first?.dailyCapFen == 1500 && caps.rows["330200"]?.first?.weeklyCapFen == 6000)

            let bad = fixture.directory + "/bad.csv"
            try "code,interoperable,daily_cap_fen\n310000,1,\n330200,yes,\n".write(toFile: bad, atomically: true, encoding: .utf8)
            do {
                try await fixture.run(["transit", "import-cities", bad])
                Issue.record("a bad file was accepted")
            } catch {
                #expect("\(error)".contains("cities.csv line 3, field interoperable"), "\(error)")
            }
            let unchanged = try await fixture.withStore { store in try await store.read { tx in try await tx.city(code: "310000") } }
            #expect(unchanged?.isInteroperable == false, "nothing of a bad file is applied")
        }
    }
}
