import Foundation

/// The original client's interactive menu, on the same splitter and sender as
/// the command line. Messages keep the original's wording.
struct Menu {
    /// Waits for the next line typed; nil at the end of the input.
    var readLine: () async -> String?
    var write: (String) -> Void
    var authors: [String]
    var seed: UInt64?
    /// Sends the loaded sentences to the balancer and returns the run's summary.
    var send: (_ balancer: String, _ sentences: [Outgoing]) async -> Summary

    private var data: [Outgoing] = []
    private var balancer: String?

    init(
        readLine: @escaping () async -> String?,
        write: @escaping (String) -> Void,
        authors: [String],
        seed: UInt64?,
        balancer: String?,
        send: @escaping (_ balancer: String, _ sentences: [Outgoing]) async -> Summary
    ) {
        self.readLine = readLine
        self.write = write
        self.authors = authors
        self.seed = seed
        self.balancer = balancer
        self.send = send
    }

    mutating func run() async {
        self.write("Sentence store loader")
        while true {
            self.write("")
            self.write("1. Insert file path")
            self.write("2. Insert load balancer address")
            self.write("3. Show data")
            self.write("4. Send data")
            self.write("5. Exit")
            self.write("ENTER OPTION:")
            guard let option = await self.readLine()?.trimmingCharacters(in: .whitespaces) else { return }
            switch option {
            case "1": await self.insertFilePath()
            case "2": await self.insertBalancerAddress()
            case "3": self.showData()
            case "4": await self.sendData()
            case "5": return
            default: self.write("ERROR: invalid option")
            }
        }
    }

    private mutating func insertFilePath() async {
        self.write("")
        self.write("ENTER FILE PATH:")
        let path = await self.readLine()?.trimmingCharacters(in: .whitespaces) ?? ""
        self.data = []
        var collected: [Outgoing] = []
        do {
            guard !path.isEmpty, path != "-" else { throw InputError.cannotOpen(file: path, reason: "no path") }
            try await OpenInputs.with([InputFile(path: path)]) { inputs in
                let items = inputs.items(runID: LoaderConfiguration.newRunID(), authors: self.authors, seed: self.seed)
                for try await case .send(let outgoing) in items { collected.append(outgoing) }
            }
            self.data = collected
            self.write("\(self.data.count) sentences loaded")
        } catch {
            self.write("ERROR: invalid file path")
        }
    }

    private mutating func insertBalancerAddress() async {
        self.write("")
        self.write("ENTER LOAD BALANCER ADDRESS:")
        let address = await self.readLine() ?? ""
        if let url = LoaderConfiguration.normalizeBalancer(address) {
            self.balancer = url
        } else {
            self.balancer = nil
            self.write("ERROR: invalid load balancer address")
        }
    }

    private func showData() {
        self.write("")
        guard !self.data.isEmpty else {
            self.write("ERROR: data not loaded")
            return
        }
        for item in self.data {
            self.write(DryRun.line(item))
        }
    }

    private func sendData() async {
        self.write("")
        guard !self.data.isEmpty else {
            self.write("ERROR: data not loaded")
            return
        }
        guard let balancer = self.balancer else {
            self.write("ERROR: load balancer not defined")
            return
        }
        self.write(balancer)
        let summary = await self.send(balancer, self.data)
        self.write(summary.text())
    }
}
