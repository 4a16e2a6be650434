import Foundation
import Harness
import Testing

/// Faults in the running cluster, each under a real loader run of 4,000 sentences at
/// concurrency 16: real `node`, `balancer` and `loader` processes on 127.0.0.1.
/// Every run ends with the stored ids counted against the ids sent.
@Suite(.serialized) struct ClusterFaultTests {
    static let sentences = 4_000

    @Test func aHungNodeIsRoutedAroundAndNothingItStoresLateIsKept() async throws {
        try await ProcessCluster.run(balancerArguments: ["--forward-timeout", "2"]) { cluster in
            let run = try await cluster.load(Self.sentences, runID: "hung", fault: { cluster in
                let onB = try await cluster.count(on: "B")
                cluster.signalNode("A", SIGSTOP)
                // While A hangs the run must carry on through B: forwards to A time out
                // (2 s) and move to B.
                let progressed = await eventually(timeout: .seconds(60)) { ((try? await cluster.count(on: "B")) ?? 0) >= onB + 600 }
                cluster.signalNode("A", SIGCONT)
                #expect(progressed, "the run stalled while A was stopped")
            })
            run.expectComplete()
            let metrics = try await cluster.http.get(cluster.url + "/metrics").text
            let inDoubt = metric(metrics, #"balancer_in_doubt_sentences_total{server="A"}"#)
            let removed = metric(metrics, #"balancer_duplicates_removed_total{server="A"}"#)
            // Each of them A either stored late (and deleted when withdrawn) or refused
            // (withdrawn first): `duplicated == 0` above says no copy was kept.
            #expect(inDoubt > 0, "forwards were in flight to A when it stopped")
            run.record(
                "node hung (SIGSTOP), forward timeout 2 s",
                "loader exit \(run.status); \(Int(inDoubt)) forwards in doubt; on SIGCONT \(Int(removed)) late copies deleted, the rest refused"
            )
        }
    }

    @Test func everyNodeDownForFiveSecondsIsRiddenOutByTheLoader() async throws {
        try await ProcessCluster.run { cluster in
            var answeredIn = 0.0
            let run = try await cluster.load(Self.sentences, runID: "outage", fault: { cluster in
                await cluster.killNode("A")
                await cluster.killNode("B")
                let down = ContinuousClock.now
                // The balancer answers at once, not after its 5 s forward timeout.
                let reply = try await cluster.http.post(cluster.url + "/sentence", json: sentenceJSON(sentence: "during the outage"))
                answeredIn = seconds(since: down)
                #expect(reply.status == 503)
                #expect(answeredIn < 2.5, "503 took \(answeredIn) s")
                try await Task.sleep(until: down + .seconds(5))
                try await cluster.restartNode("A")
                try await cluster.restartNode("B")
            })
            run.expectComplete()
            run.record(
                "every node killed (SIGKILL) for 5 s mid-run",
                "503 in \(String(format: "%.3f", answeredIn)) s; loader exit \(run.status), retried through the outage"
            )
        }
    }

    @Test func aBalancerKilledAndRestartedMidRunLosesNothing() async throws {
        try await ProcessCluster.run { cluster in
            let run = try await cluster.load(Self.sentences, runID: "bkill", fault: { cluster in
                await cluster.killBalancer()
                try await cluster.restartBalancer()
            })
            // What the dead balancer had in flight may be stored twice (see the README).
            run.expectComplete(allowingDuplicates: 16)
            run.record("balancer killed (SIGKILL) and restarted mid-run", "loader exit \(run.status); duplicates bounded by the 16 requests in flight")
        }
    }

    @Test func aNodeStoppedGracefullyUnderLoadFinishesWhatItStarted() async throws {
        try await ProcessCluster.run { cluster in
            var exit: Int32?
            var stoppedIn = 0.0
            let run = try await cluster.load(
                Self.sentences, runID: "termnode",
                fault: { cluster in
                    let asked = ContinuousClock.now
                    exit = try await cluster.stopNode("B")
                    stoppedIn = seconds(since: asked)
                },
                afterRun: { try await $0.restartNode("B") }
            )
            #expect(exit == 0)
            #expect(stoppedIn < 10, "SIGTERM took \(stoppedIn) s")
            run.expectComplete()
            run.record("node stopped with SIGTERM under load", "node exit \(exit ?? -1) in \(String(format: "%.2f", stoppedIn)) s; loader exit \(run.status)")
        }
    }

    @Test func aBalancerStoppedGracefullyUnderLoadFinishesWhatItStarted() async throws {
        try await ProcessCluster.run { cluster in
            var exit: Int32?
            var stoppedIn = 0.0
            let run = try await cluster.load(Self.sentences, runID: "termbal", fault: { cluster in
                let asked = ContinuousClock.now
                exit = try await cluster.stopBalancer()
                stoppedIn = seconds(since: asked)
                try await cluster.restartBalancer()
            })
            #expect(exit == 0)
            #expect(stoppedIn < 10, "SIGTERM took \(stoppedIn) s")
            run.expectComplete()
            run.record(
                "balancer stopped with SIGTERM under load, then started again",
                "balancer exit \(exit ?? -1) in \(String(format: "%.2f", stoppedIn)) s; loader exit \(run.status)"
            )
        }
    }
}
