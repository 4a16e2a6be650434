import Foundation
import Harness
import SentenceKit
import Testing

/// Faults in the running cluster, each under a real loader run of 4,000 sentences at
/// concurrency 16: real `node`, `balancer` and `loader` processes on 127.0.0.1.
/// Every run ends with the stored ids counted against the ids sent.
@Suite(.serialized) struct ClusterFaultTests {
    static let sentences = 4_000

    @Test func aHungNodeIsRoutedAroundAndTheCopiesItStoresLateAreRemoved() async throws {
        try await ProcessCluster.run(balancerArguments: ["--forward-timeout", "2"]) { cluster in
            let start = ContinuousClock.now
            let loader = try LoaderRun.start(cluster, count: Self.sentences, runID: "hung")
            try await cluster.waitForStored(800)
            let onB = try await cluster.count(on: "B")
            cluster.signalNode("A", SIGSTOP)
            // While A hangs, the run must carry on through B: its forwards to A time out
            // (2 s) and move to B.
            let progressed = await eventually(timeout: .seconds(60)) { ((try? await cluster.count(on: "B")) ?? 0) >= onB + 600 }
            cluster.signalNode("A", SIGCONT)
            #expect(progressed, "the run stalled while A was stopped")
            let (status, summary) = try await loader.finish()
            #expect(status == 0, "loader: \(loader.child.standardError)")
            #expect(summary?.sent == Self.sentences)
            try await cluster.waitUntilSettled()
            let accounting = Accounting(runID: "hung", count: Self.sentences, storedIDs: try await cluster.allIDs())
            #expect(accounting.lost == 0, "\(accounting)")
            #expect(accounting.duplicated == 0, "\(accounting)")
            let metrics = try await cluster.http.get(cluster.url + "/metrics").text
            let inDoubt = metric(metrics, #"balancer_in_doubt_sentences_total{server="A"}"#)
            let removed = metric(metrics, #"balancer_duplicates_removed_total{server="A"}"#)
            #expect(inDoubt > 0, "forwards were in flight to A when it stopped")
            #expect(removed <= inDoubt)
            FaultRow(
                fault: "node hung (SIGSTOP), forward timeout 2 s",
                outcome: "loader exit \(status); \(Int(inDoubt)) forwards in doubt, \(Int(removed)) late copies removed on SIGCONT",
                sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated,
                seconds: seconds(since: start)
            ).record()
        }
    }

    @Test func everyNodeDownForFiveSecondsIsRiddenOutByTheLoader() async throws {
        try await ProcessCluster.run { cluster in
            let start = ContinuousClock.now
            let loader = try LoaderRun.start(cluster, count: Self.sentences, runID: "outage")
            try await cluster.waitForStored(800)
            cluster.killNode("A")
            cluster.killNode("B")
            let down = ContinuousClock.now
            // The balancer answers at once, not after its 5 s forward timeout.
            let asked = ContinuousClock.now
            let reply = try await cluster.http.post(cluster.url + "/sentence", json: sentenceJSON(sentence: "during the outage"))
            let answeredIn = seconds(since: asked)
            #expect(reply.status == 503)
            #expect(answeredIn < 2.5, "503 took \(answeredIn) s")
            try await Task.sleep(until: down + .seconds(5))
            try await cluster.restartNode("A")
            try await cluster.restartNode("B")
            let (status, summary) = try await loader.finish()
            #expect(status == 0, "loader: \(loader.child.standardError)")
            #expect(summary?.sent == Self.sentences)
            try await cluster.waitUntilSettled()
            let accounting = Accounting(runID: "outage", count: Self.sentences, storedIDs: try await cluster.allIDs())
            #expect(accounting.lost == 0, "\(accounting)")
            #expect(accounting.duplicated == 0, "\(accounting)")
            FaultRow(
                fault: "every node killed (SIGKILL) for 5 s mid-run",
                outcome: "503 in \(String(format: "%.3f", answeredIn)) s; loader exit \(status), retried through the outage",
                sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated,
                seconds: seconds(since: start)
            ).record()
        }
    }

    @Test func aBalancerKilledAndRestartedMidRunLosesNothing() async throws {
        try await ProcessCluster.run { cluster in
            let start = ContinuousClock.now
            let loader = try LoaderRun.start(cluster, count: Self.sentences, runID: "bkill")
            try await cluster.waitForStored(800)
            cluster.killBalancer()
            try await cluster.restartBalancer()
            let (status, summary) = try await loader.finish()
            #expect(status == 0, "loader: \(loader.child.standardError)")
            #expect(summary?.sent == Self.sentences)
            try await cluster.waitUntilSettled()
            let accounting = Accounting(runID: "bkill", count: Self.sentences, storedIDs: try await cluster.allIDs())
            #expect(accounting.lost == 0, "\(accounting)")
            #expect(accounting.duplicated <= 16, "at most the requests in flight: \(accounting)")
            FaultRow(
                fault: "balancer killed (SIGKILL) and restarted mid-run",
                outcome: "loader exit \(status); duplicates bounded by the 16 requests in flight",
                sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated,
                seconds: seconds(since: start)
            ).record()
        }
    }

    @Test func aNodeStoppedGracefullyUnderLoadFinishesWhatItStarted() async throws {
        try await ProcessCluster.run { cluster in
            let start = ContinuousClock.now
            let loader = try LoaderRun.start(cluster, count: Self.sentences, runID: "termnode")
            try await cluster.waitForStored(800)
            let asked = ContinuousClock.now
            let exit = try await cluster.stopNode("B")
            let stoppedIn = seconds(since: asked)
            #expect(exit == 0)
            #expect(stoppedIn < 10, "SIGTERM took \(stoppedIn) s")
            let (status, summary) = try await loader.finish()
            #expect(status == 0, "loader: \(loader.child.standardError)")
            try await cluster.restartNode("B")
            try await cluster.waitUntilSettled()
            let accounting = Accounting(runID: "termnode", count: Self.sentences, storedIDs: try await cluster.allIDs())
            #expect(accounting.lost == 0, "\(accounting)")
            #expect(accounting.duplicated == 0, "\(accounting)")
            FaultRow(
                fault: "node stopped with SIGTERM under load",
                outcome: "node exit \(exit ?? -1) in \(String(format: "%.2f", stoppedIn)) s; loader exit \(status)",
                sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated,
                seconds: seconds(since: start)
            ).record()
        }
    }

    @Test func aBalancerStoppedGracefullyUnderLoadFinishesWhatItStarted() async throws {
        try await ProcessCluster.run { cluster in
            let start = ContinuousClock.now
            let loader = try LoaderRun.start(cluster, count: Self.sentences, runID: "termbal")
            try await cluster.waitForStored(800)
            let asked = ContinuousClock.now
            let exit = try await cluster.stopBalancer()
            let stoppedIn = seconds(since: asked)
            #expect(exit == 0)
            #expect(stoppedIn < 10, "SIGTERM took \(stoppedIn) s")
            try await cluster.restartBalancer()
            let (status, summary) = try await loader.finish()
            #expect(status == 0, "loader: \(loader.child.standardError)")
            try await cluster.waitUntilSettled()
            let accounting = Accounting(runID: "termbal", count: Self.sentences, storedIDs: try await cluster.allIDs())
            #expect(accounting.lost == 0, "\(accounting)")
            #expect(accounting.duplicated == 0, "\(accounting)")
            FaultRow(
                fault: "balancer stopped with SIGTERM under load, then started again",
                outcome: "balancer exit \(exit ?? -1) in \(String(format: "%.2f", stoppedIn)) s; loader exit \(status)",
                sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated,
                seconds: seconds(since: start)
            ).record()
        }
    }
}
