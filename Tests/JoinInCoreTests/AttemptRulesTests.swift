import JoinInTestSupport
import Testing
@testable import JoinInCore

/// `AttemptRules` against a model: many attempts, each with a secret that is right or wrong,
/// interleaved at random (reserve, then later resolve). Whatever the interleaving, no more wrong
/// secrets are ever compared than the policy allows, and no right secret is ever refused while
/// the allowance is not used up.
@Suite("Attempt counters: reserve before checking")
struct AttemptRulesTests {
    struct Attempt {
        let right: Bool
        var reserved = false
        var done = false
    }

    /// Runs one random schedule; returns (wrong secrets compared, right ones refused before the
    /// allowance was used up, attempts still waiting at the end).
    static func run(policy: AttemptPolicy, attempts count: Int, wrongShare: Double, seed: UInt64) -> (wrongChecked: Int, rightRefusedEarly: Int) {
        var rng = SeededGenerator(seed: seed)
        var counter = AttemptCounter.zero
        var attempts = (0..<count).map { _ in Attempt(right: Double.random(in: 0..<1, using: &rng) >= wrongShare) }
        var wrongChecked = 0, rightRefusedEarly = 0
        let now: Int64 = 1_000
        let allowance: Int
        switch policy {
        case .cap(let maximum): allowance = maximum
        case .backOff(let free): allowance = free
        }
        var steps = 0
        while attempts.contains(where: { !$0.done }), steps < 100_000 {
            steps += 1
            let open = attempts.indices.filter { !attempts[$0].done }
            let index = open[Int.random(in: 0..<open.count, using: &rng)]
            if attempts[index].reserved {
                // The check finishes: record its outcome.
                if !attempts[index].right { wrongChecked += 1 }
                counter = AttemptRules.resolve(counter, policy: policy, right: attempts[index].right, nowMs: now)
                attempts[index].done = true
                continue
            }
            switch AttemptRules.reserve(counter, policy: policy, nowMs: now) {
            case .reserved(let next):
                #expect(next.pending == counter.pending + 1)
                counter = next
                attempts[index].reserved = true
            case .refused:
                if attempts[index].right && counter.failures < allowance { rightRefusedEarly += 1 }
                attempts[index].done = true
            case .busy:
                #expect(counter.pending > 0, "busy only while checks are in flight")
            }
        }
        #expect(counter.pending == 0)
        #expect(counter.failures == wrongChecked)
        return (wrongChecked, rightRefusedEarly)
    }

    @Test("a cap of 3: never more than 3 wrong PINs compared, under any interleaving")
    func capHolds() {
        for seed in 0..<300 as Range<UInt64> {
            let outcome = Self.run(policy: .cap(3), attempts: 32, wrongShare: [1.0, 0.5, 0.1][Int(seed % 3)], seed: seed)
            #expect(outcome.wrongChecked <= 3, "seed \(seed)")
            #expect(outcome.rightRefusedEarly == 0, "seed \(seed)")
        }
    }

    @Test("back-off: at most `free` wrong passwords compared before the lock, under any interleaving")
    func backOffHolds() {
        for seed in 0..<300 as Range<UInt64> {
            let outcome = Self.run(policy: .backOff(free: 5), attempts: 32, wrongShare: [1.0, 0.7, 0.2][Int(seed % 3)], seed: seed)
            #expect(outcome.wrongChecked <= 5, "seed \(seed)")
            #expect(outcome.rightRefusedEarly == 0, "seed \(seed)")
        }
    }

    @Test("all wrong: exactly the allowance is compared")
    func allWrong() {
        #expect(Self.run(policy: .cap(3), attempts: 32, wrongShare: 1.0, seed: 7).wrongChecked == 3)
        #expect(Self.run(policy: .backOff(free: 5), attempts: 32, wrongShare: 1.0, seed: 7).wrongChecked == 5)
    }

    @Test("a lock set by back-off refuses until it ends, then lets one attempt through at a time")
    func backOffLock() {
        let locked = AttemptCounter(failures: 5, lockedUntilMs: 31_000)
        #expect(AttemptRules.reserve(locked, policy: .backOff(free: 5), nowMs: 30_999) == .refused(lockedUntilMs: 31_000))
        guard case .reserved(let one) = AttemptRules.reserve(locked, policy: .backOff(free: 5), nowMs: 31_000) else {
            Issue.record("not reserved after the lock"); return
        }
        #expect(AttemptRules.reserve(one, policy: .backOff(free: 5), nowMs: 31_000) == .busy)
        let failed = AttemptRules.resolve(one, policy: .backOff(free: 5), right: false, nowMs: 31_000)
        #expect(failed == AttemptCounter(failures: 6, lockedUntilMs: 31_000 + 60_000))
    }

    @Test("a reservation that never reports back counts as a failure when its lease ends")
    func leaseExpiry() {
        guard case .reserved(let held) = AttemptRules.reserve(.zero, policy: .cap(3), nowMs: 0) else { Issue.record("not reserved"); return }
        #expect(AttemptRules.normalized(held, nowMs: AttemptRules.leaseMs - 1) == held)
        #expect(AttemptRules.normalized(held, nowMs: AttemptRules.leaseMs) == AttemptCounter(failures: 1, lockedUntilMs: 0))
    }
}
