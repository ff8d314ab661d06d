import Foundation
import JoinInCore
import Testing

@Suite("Hex")
struct HexTests {
    @Test("lower-case hex equals Foundation's %02x for every byte value and for random data of every length up to 64")
    func matchesFormatting() {
        func reference(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        let all = (0...255).map { UInt8($0) }
        #expect(Hex.lowercase(all) == reference(all))
        #expect(Hex.lowercase([UInt8]()) == "")
        var generator = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(Hex.lowercase(bytes) == reference(bytes))
        }
    }
}
