import Foundation
import JoinInCore
@testable import JoinInCLI
import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

@Suite("CLI: medical-insurance imports")
struct HealthCLITests {
    static func demo(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples/health-demo/\(name)").path
    }

    @Test("import-policy and import-catalogue store validated versions; errors name the path or line and store nothing",
          arguments: TestStores.engines)
    func imports(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            try await fixture.run(["migrate"])
            try await fixture.withStore { store in try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs()) }
            try await fixture.run(["health", "import-policy", Self.demo("policy-330200-2026.json")])
            try await fixture.run(["health", "import-policy", Self.demo("policy-330200-2026.json")])
            try await fixture.run(["health", "import-catalogue", "--city", "330200", Self.demo("catalogue-330200.csv")])
            let (policy, catalogue) = try await fixture.withStore { store in
                try await store.read { tx in (try await tx.currentPolicy(cityCode: "330200", year: 2026), try await tx.currentCatalogue(cityCode: "330200")) }
            }
            #expect(policy?.version == 2)
            #expect(try policy?.policy().visits[.inpatient]?.terms[3]?.ratioBp == 8_000)
            #expect(catalogue?.itemCount == 11)

            let badPolicy = fixture.directory + "/bad-policy.json"
            let text = try String(contentsOfFile: Self.demo("policy-330200-2026.json"), encoding: .utf8)
                .replacingOccurrences(of: "\"class_b_self_pay_bp\": 1000", with: "\"class_b_self_pay_bp\": 12000")
            try text.write(toFile: badPolicy, atomically: true, encoding: .utf8)
            do {
                try await fixture.run(["health", "import-policy", badPolicy])
                Issue.record("an invalid policy was imported")
            } catch {
                #expect("\(error)".contains("class_b_self_pay_bp: must be between 0 and 10000"), "\(error)")
            }
            let badCatalogue = fixture.directory + "/bad.csv"
            try "code,name_en,name_zh,class,unit\nA1,Aspirin,阿司匹林,D,box\n".write(toFile: badCatalogue, atomically: true, encoding: .utf8)
            do {
                try await fixture.run(["health", "import-catalogue", "--city", "330200", badCatalogue])
                Issue.record("an invalid catalogue was imported")
            } catch {
                #expect("\(error)".contains("line 2, field class"), "\(error)")
            }
            do {
                try await fixture.run(["health", "import-catalogue", "--city", "999999", Self.demo("catalogue-330200.csv")])
                Issue.record("a catalogue for an unknown city was imported")
            } catch {
                #expect("\(error)".contains("city.not_found"), "\(error)")
            }
            let after = try await fixture.withStore { store in
                try await store.read { tx in (try await tx.currentPolicy(cityCode: "330200", year: 2026)?.version, try await tx.currentCatalogue(cityCode: "330200")?.version) }
            }
            #expect(after.0 == 2 && after.1 == 1, "nothing stored by the failed imports")
        }
    }
}

@Suite("CLI: library holdings import")
struct LibraryCLITests {
    @Test("import library-items is validated whole and idempotent", arguments: TestStores.engines)
    func importItems(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            try await fixture.run(["migrate"])
            let libraryID = UUID().uuidString.lowercased()
            try await fixture.withStore { store in
                try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs())
                try await store.write { tx in
                    try await tx.insertLibrary(id: libraryID, name: LocalizedName(en: "Tianyi", zh: "天一"), cityCode: "330200",
                                               address: LocalizedName(en: "Ningbo", zh: "宁波"), atMs: 0)
                }
            }
            let items = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/examples/library-demo/items-tianyi.csv").path
            try await fixture.run(["import", "library-items", "--library", libraryID, items])
            try await fixture.run(["import", "library-items", "--library", libraryID, items])
            let stored = try await fixture.withStore { store in
                try await store.read { tx in try await tx.libraryItems(cityCode: "330200", barcodes: ["TY000001", "TY000008"]) }
            }
            #expect(stored.count == 2 && stored["TY000001"]?.isbn == "9787020002207")
            let bad = fixture.directory + "/bad-items.csv"
            try "barcode,title,author,isbn\nX1,Book,A,\nX1,Again,B,\n".write(toFile: bad, atomically: true, encoding: .utf8)
            do {
                try await fixture.run(["import", "library-items", "--library", libraryID, bad])
                Issue.record("a file with a barcode listed twice was imported")
            } catch {
                #expect("\(error)".contains("bad-items.csv line 3, field barcode"), "\(error)")
            }
            let none = try await fixture.withStore { store in
                try await store.read { tx in try await tx.libraryItem(cityCode: "330200", barcode: "X1") }
            }
            #expect(none == nil, "nothing stored by the failed import")
        }
    }
}
