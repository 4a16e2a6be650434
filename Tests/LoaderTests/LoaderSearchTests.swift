import Foundation
import Harness
import SentenceWire
import Testing

@testable import Loader

/// `loader search`: the table it prints, and the binary against a real cluster.
@Suite struct LoaderSearchTests {
    @Test func theTableHighlightsOnATerminalOnlyAndSaysWhatIsMissing() {
        let hits = [
            SearchHit(id: "1", author: "User1", sentence: "La acción", date: "2026-11-29 01:27:21.847519", rank: -1.234, snippet: "La \u{E000}acción\u{E001}", server: "A"),
            SearchHit(id: "2", author: "User22", sentence: "acción", date: "2026-11-29 01:27:22.000001", rank: -0.5, snippet: "\u{E000}acción\u{E001}", server: "B"),
        ]
        let reply = SearchReply(hits: hits, truncated: false, partial: false, missing: [])
        #expect(
            LoaderSearch.table(reply, query: "accion", bold: false) == """
                RANK   NODE  AUTHOR  DATE                 SENTENCE
                -1.23  A     User1   2026-11-29 01:27:21  La acción
                -0.50  B     User22  2026-11-29 01:27:22  acción
                2 hits
                """
        )
        #expect(LoaderSearch.table(reply, query: "accion", bold: true).contains("La \u{1B}[1macción\u{1B}[0m\n"))
        let partial = SearchReply(hits: [hits[0]], truncated: true, partial: true, missing: [SearchMiss(server: "B", error: "timed out")])
        #expect(
            LoaderSearch.table(partial, query: "accion", bold: false).hasSuffix(
                "\n1 hit; partial: B did not answer; very common words are ranked among each node's newest matches"
            )
        )
        #expect(LoaderSearch.table(SearchReply(hits: [], truncated: false), query: "nada", bold: false) == "no sentence matches nada")
    }

    @Test func theBinaryPrintsHitsOrJSONAndFailsClearly() async throws {
        try await ProcessCluster.run { cluster in
            for sentence in ["La acción del puerto", "El vestido rojo"] {
                #expect(try await cluster.http.post(cluster.url + "/sentence", json: sentenceJSON(author: "User3", sentence: sentence)).status == 201)
            }
            let table = try await ChildProcess.run("loader", ["search", "accion", "--balancer", cluster.url])
            #expect(table.status == 0, "stderr: \(table.error)")
            let lines = table.output.split(separator: "\n")
            #expect(lines.count == 3 && lines[0].hasPrefix("RANK") && lines[2] == "1 hit", "\(table.output)")
            #expect(lines[1].contains("User3") && lines[1].hasSuffix("La acción del puerto"), "no markers when not on a terminal")

            let json = try await ChildProcess.run("loader", ["search", "vesti*", "OR", "puerto", "--limit", "1", "--json", "--balancer", cluster.url])
            #expect(json.status == 0, "stderr: \(json.error)")
            let reply = try JSONDecoder().decode(SearchReply.self, from: Data(json.output.utf8))
            #expect(reply.hits.count == 1 && reply.partial == false)

            let none = try await ChildProcess.run("loader", ["search", "nada", "--balancer", cluster.url])
            #expect(none.status == 0 && none.output == "no sentence matches nada\n")

            let refused = try await ChildProcess.run("loader", ["search", "lamp OR", "--balancer", cluster.url])
            #expect(refused.status == 2 && refused.error.contains("the query was refused: q: fts5: syntax error"), "\(refused.error)")
            let unbalanced = try await ChildProcess.run("loader", ["search", "\"lamp", "--balancer", cluster.url])
            #expect(unbalanced.status == 2 && unbalanced.error.contains("unbalanced quote"), "\(unbalanced.error)")
            let noWords = try await ChildProcess.run("loader", ["search", "--balancer", cluster.url])
            #expect(noWords.status == 2 && noWords.error.contains("give the words to search for"))
            let misplaced = try await ChildProcess.run("loader", ["--file", "-", "--limit", "5", "--balancer", cluster.url])
            #expect(misplaced.status == 2 && misplaced.error.contains("--limit and --author apply to `loader search` only"), "\(misplaced.error)")
            let noBalancer = try await ChildProcess.run("loader", ["search", "lamp"], environment: ["LOADER_BALANCER": ""])
            #expect(noBalancer.status == 2 && noBalancer.error.contains("--balancer"), "\(noBalancer.error)")

            try await cluster.stopNode("B")
            let partial = try await ChildProcess.run("loader", ["search", "accion", "vestido", "OR", "rojo", "--balancer", cluster.url])
            #expect(partial.status == 0)
            #expect(partial.error.contains("node B did not answer, its sentences are missing"), "\(partial.error)")

            let address = cluster.url
            try await cluster.stopBalancer()
            let gone = try await ChildProcess.run("loader", ["search", "accion", "--balancer", address])
            #expect(gone.status == 1 && gone.error.contains("cannot reach the balancer at \(address)"), "\(gone.error)")
        }
    }
}
