import Foundation
import Harness
import Testing

/// `loader menu`: the original client's interactive menu, driven through standard
/// input against a real cluster.
@Suite struct LoaderMenuTests {
    @Test func theMenuFollowsTheOriginal() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try LoaderFixtures.writeFile(LoaderFixtures.sample, in: folder)
            let input = [
                "7", "3", "4",  // invalid option, no data to show, no data to send
                "1", "/no/such/file",  // invalid path
                "1", path,  // loads 6 sentences
                "4",  // no address yet
                "2", "not a url",
                "2", cluster.url + "/sentence",
                "3", "4", "5",
            ].joined(separator: "\n") + "\n"
            let result = try await ChildProcess.run("loader", ["menu", "--seed", "3"], input: input)
            #expect(result.status == 0)
            let output = result.output
            for expected in ["1. Insert file path", "2. Insert load balancer address", "3. Show data", "4. Send data", "5. Exit", "ENTER OPTION:", "ENTER FILE PATH:", "ENTER LOAD BALANCER ADDRESS:"] {
                #expect(output.contains(expected))
            }
            #expect(output.components(separatedBy: "ERROR: invalid option").count == 2)
            #expect(output.components(separatedBy: "ERROR: data not loaded").count == 3)
            #expect(output.contains("ERROR: invalid file path"))
            #expect(output.contains("ERROR: load balancer not defined"))
            #expect(output.contains("ERROR: invalid load balancer address"))
            #expect(output.contains("6 sentences loaded"))
            #expect(output.contains(#"{"author":"#) && output.contains("Ad minim veniam"))
            #expect(output.contains("sent 6, failed 0"))
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 6)
        }
    }

    @Test func theEndOfInputLeavesTheMenu() async throws {
        let result = try await ChildProcess.run("loader", ["menu"], input: "7\n")
        #expect(result.status == 0)
        #expect(result.output.contains("ERROR: invalid option"))
    }
}
