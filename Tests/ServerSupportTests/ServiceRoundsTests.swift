import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@testable import ServerSupport

/// The one loop of every background service ends on graceful shutdown and on
/// cancellation, wherever the service is when either comes.
@Suite(.timeLimit(.minutes(1))) struct ServiceRoundsTests {
    @Test func roundsEndOnGracefulShutdown() async {
        let rounds = await testGracefulShutdown { shutdown in
            var rounds = 0
            for await _ in ServiceRounds.every(.milliseconds(10)) {
                rounds += 1
                if rounds == 3 { shutdown.triggerGracefulShutdown() }
            }
            return rounds
        }
        #expect(rounds == 3)
    }

    @Test func aGracefulShutdownEndsTheWaitForTheNextRound() async {
        await testGracefulShutdown { shutdown in
            let started = ContinuousClock.now
            let loop = Task {
                for await _ in ServiceRounds.every(.seconds(3600)) { Issue.record("no round was due") }
            }
            shutdown.triggerGracefulShutdown()
            await loop.value
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test func roundsEndOnCancellationWhileWaiting() async {
        let loop = Task {
            for await _ in ServiceRounds.every(.seconds(3600)) { Issue.record("no round was due") }
        }
        loop.cancel()
        // A loop that ignored cancellation would never end (or spin): the time limit fails it.
        await loop.value
    }

    @Test func aCancellationDuringARoundEndsTheLoopBeforeTheNext() async {
        let loop = Task {
            var rounds = 0
            for await _ in ServiceRounds.every(.milliseconds(10)) {
                rounds += 1
                if rounds == 2 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            return rounds
        }
        #expect(await loop.value == 2)
    }
}
