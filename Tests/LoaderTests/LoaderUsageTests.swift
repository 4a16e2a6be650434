import Harness
import Testing

/// How the `loader` binary answers a wrong command line: exit status 2, nothing on
/// standard output, and a message that says what to do.
@Suite struct LoaderUsageTests {
    @Test(arguments: [
        ([] as [String], "give a text file with --file PATH (- for standard input), or run `loader menu`"),
        (["--file", "x.txt"], "give the balancer's address with --balancer http://HOST:4999, or use --dry-run"),
        (["--file", "/no/such/file.txt", "--dry-run"], "cannot read /no/such/file.txt: No such file or directory"),
        (["--file", "/tmp", "--dry-run"], "cannot read /tmp: it is a directory"),
        (["--file", "x.txt", "--balancer", "localhost:4999"], "--balancer localhost:4999 is not an http(s) URL like http://127.0.0.1:4999"),
        (["--file", "x.txt", "--dry-run", "--concurrency", "0"], "--concurrency must be 1–1024"),
        (["--file", "x.txt", "--dry-run", "--batch", "10001"], "--batch must be 1–10000"),
        (["--file", "x.txt", "--dry-run", "--authors", " , "], "--authors needs at least one name"),
        (["--file", "x.txt", "--dry-run", "--timeout=-1"], "--timeout must be a positive number of seconds, got -1"),
        (["--file", "x.txt", "--frobnicate"], "Unknown option '--frobnicate'"),
        (["--file", "x.txt", "--dry-run", "--run-id", "has space"], "--run-id must be 1–64 characters without spaces"),
    ])
    func usageErrorsExitWith2AndSayWhatToDo(arguments: [String], message: String) async throws {
        let result = try await ChildProcess.run("loader", arguments)
        #expect(result.status == 2)
        #expect(result.error.contains(message), "stderr: \(result.error)")
        #expect(result.output.isEmpty)
    }

    @Test func helpShowsAnExample() async throws {
        let result = try await ChildProcess.run("loader", ["--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("loader --balancer http://127.0.0.1:4999 --file"))
        #expect(result.output.contains("--dry-run"))
    }
}
